"""Read-only web pages at / showing the sandbox's bases, Drive, sheets, documents and Slack channels.

Routes: `/` (overview), `/view/airtable/{base}/{table}`, `/view/sheets/{id}?tab=`,
`/view/sheets/{id}/charts` (every chart of a spreadsheet, drawn as SVG from its spec and
data: see charts.py), `/view/docs/{id}`, `/view/slack/{channel id or name}`. Only GET; every value is escaped
(hostile seed text shows as text). Not implemented: editing, search, paging of long
tables (sheets show their first 2,000 rows), Slack files and reactions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from sandbox.core import Workspace
from sandbox.viewer import pages

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status)


def viewer_routes(sandbox: Workspace) -> list[Route]:
    services = sandbox.services

    async def index(request: Request) -> HTMLResponse:
        return render("index.html", title="Overview", **pages.overview(services))

    async def airtable_table(request: Request) -> HTMLResponse:
        params = request.path_params
        data = pages.airtable_table(services["airtable"], params["base"], params["table"])
        return render("table.html", title=data["table"]["name"], **data)

    async def spreadsheet(request: Request) -> HTMLResponse:
        sheet = pages.spreadsheet(
            services["sheets"], request.path_params["id"], request.query_params.get("tab")
        )
        return render("sheet.html", title=sheet["title"], sheet=sheet)

    async def spreadsheet_charts(request: Request) -> HTMLResponse:
        data = pages.spreadsheet_charts(services["sheets"], request.path_params["id"])
        return render("charts.html", title=f"Charts of {data['title']}", sheet=data)

    async def document(request: Request) -> HTMLResponse:
        doc = pages.document(services["docs"], request.path_params["id"])
        return render("doc.html", title=doc["title"], doc=doc)

    async def slack_channel(request: Request) -> HTMLResponse:
        data = pages.slack_channel(services["slack"], request.path_params["channel"])
        return render("channel.html", title=data["channel"]["name"], **data)

    def guarded(handler: Any) -> Any:
        async def page(request: Request) -> HTMLResponse:
            try:
                return await handler(request)
            except pages.NotFound as missing:
                return render("missing.html", 404, title="Not found", what=str(missing))

        return page

    return [
        Route("/", guarded(index), methods=["GET"]),
        Route("/view/airtable/{base}/{table}", guarded(airtable_table), methods=["GET"]),
        Route("/view/sheets/{id}", guarded(spreadsheet), methods=["GET"]),
        Route("/view/sheets/{id}/charts", guarded(spreadsheet_charts), methods=["GET"]),
        Route("/view/docs/{id}", guarded(document), methods=["GET"]),
        Route("/view/slack/{channel}", guarded(slack_channel), methods=["GET"]),
    ]
