"""Read-only web page at / showing the sandbox's bases, sheets, documents and Slack channels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

if TYPE_CHECKING:
    from sandbox.app import Sandbox


def viewer_routes(sandbox: Sandbox) -> list[Route]:
    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse("<h1>Coalition sandbox</h1>")

    return [Route("/", index)]
