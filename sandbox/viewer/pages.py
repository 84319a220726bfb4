"""What each viewer page shows, read from the backends' model APIs into plain view data.

Nothing here writes: pages only read the models, so looking at the sandbox never
changes what the bot sees. Templates get these dicts and lists, never a backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from sandbox.sheets import cells
from sandbox.sheets import charts as sheet_charts
from sandbox.viewer.charts import draw_spec
from sandbox.viewer.render import BlockRenderer, airtable_value, column_letter, mrkdwn

FOLDER_MIME = "application/vnd.google-apps.folder"
SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
DOCUMENT_MIME = "application/vnd.google-apps.document"
MAX_SHEET_ROWS = 2000


class NotFound(LookupError):
    """The page names something the sandbox does not have."""


# ---------------------------------------------------------------- index
def overview(services: dict[str, Any]) -> dict[str, Any]:
    """Everything there is to look at, with links."""
    airtable = services["airtable"]
    bases = [
        {
            "id": base["id"],
            "name": base["name"],
            "tables": [
                {
                    "id": t["id"],
                    "name": t["name"],
                    "count": len(airtable.records(base["id"], t["id"])),
                }
                for t in airtable.meta_tables(base["id"])
            ],
        }
        for base in airtable.meta_bases()
    ]
    slack = services["slack"]
    channels = [
        {
            "id": c["id"],
            "name": channel_label(c, slack.users),
            "private": c.get("is_private", False),
            "count": len(slack.messages(c["id"], include_ephemeral=True)),
        }
        for c in sorted(slack.channels.values(), key=lambda c: (c["is_im"], c.get("name", "")))
    ]
    return {
        "bases": bases,
        "drive": drive_tree(services["drive"]),
        "channels": channels,
        "bills": len(services["openstates"].bills()),
    }


@dataclass
class DriveNode:
    id: str
    name: str
    kind: str  # folder | sheet | doc | file
    children: list[DriveNode] = field(default_factory=list)

    @property
    def href(self) -> str | None:
        return {"sheet": f"/view/sheets/{self.id}", "doc": f"/view/docs/{self.id}"}.get(self.kind)


def drive_tree(drive: Any) -> list[DriveNode]:
    """My Drive as folders holding files, top level first."""
    files = drive.list_files()
    kinds = {FOLDER_MIME: "folder", SPREADSHEET_MIME: "sheet", DOCUMENT_MIME: "doc"}
    nodes = {
        f["id"]: DriveNode(f["id"], f["name"], kinds.get(f["mimeType"], "file"))
        for f in files
        if not f.get("trashed")
    }
    roots: list[DriveNode] = []
    for f in files:
        node = nodes.get(f["id"])
        if node is None:
            continue
        parent = next((nodes[p] for p in f.get("parents", []) if p in nodes), None)
        (parent.children if parent else roots).append(node)
    return roots


# ---------------------------------------------------------------- Airtable
def airtable_table(airtable: Any, base_id: str, table_id: str) -> dict[str, Any]:
    """One table as a grid: field names across, records down, links shown by name."""
    bases = {b["id"]: b for b in airtable.meta_bases()}
    if base_id not in bases:
        raise NotFound(f"base {base_id}")
    schemas = airtable.meta_tables(base_id)
    schema = next((t for t in schemas if table_id in (t["id"], t["name"])), None)
    if schema is None:
        raise NotFound(f"table {table_id}")
    names = _primary_names(airtable, base_id, schemas)
    fields = [f["name"] for f in schema["fields"]]
    rows = [
        [airtable_value(record["fields"].get(name), names) for name in fields]
        for record in airtable.records(base_id, schema["id"])
    ]
    return {
        "base": bases[base_id],
        "table": schema,
        "tables": schemas,
        "fields": [(f["name"], f["type"]) for f in schema["fields"]],
        "rows": rows,
    }


def _primary_names(airtable: Any, base_id: str, schemas: list[dict[str, Any]]) -> dict[str, str]:
    """Record id -> primary field text, across the base, so links read as names."""
    names: dict[str, str] = {}
    for schema in schemas:
        primary = next(f["name"] for f in schema["fields"] if f["id"] == schema["primaryFieldId"])
        for record in airtable.records(base_id, schema["id"]):
            names[record["id"]] = str(record["fields"].get(primary, record["id"]))
    return names


# ---------------------------------------------------------------- Sheets and Docs
@dataclass(frozen=True)
class SheetCell:
    value: str
    formula: str | None = None


def spreadsheet(sheets: Any, spreadsheet_id: str, tab: str | None) -> dict[str, Any]:
    """One tab of a spreadsheet as cells, formulas kept apart from values so they can be marked."""
    stored = sheets.spreadsheets.get(spreadsheet_id)
    if stored is None:
        raise NotFound(f"spreadsheet {spreadsheet_id}")
    titles = [s.title for s in stored.sheets]
    sheet = stored.sheet_by_title(tab) if tab else stored.sheets[0]
    if sheet is None:
        raise NotFound(f"tab {tab}")
    rows = [[_cell(value) for value in row] for row in sheet.rows[:MAX_SHEET_ROWS]]
    width = max((len(r) for r in rows), default=0)
    return {
        "id": spreadsheet_id,
        "title": stored.title,
        "tabs": titles,
        "tab": sheet.title,
        "columns": [column_letter(i) for i in range(width)],
        "rows": [r + [SheetCell("")] * (width - len(r)) for r in rows],
        "hidden_rows": max(len(sheet.rows) - MAX_SHEET_ROWS, 0),
        "charts": _drawn(stored, sheet.sheet_id),
        "chart_count": len(stored.charts),
    }


def spreadsheet_charts(sheets: Any, spreadsheet_id: str) -> dict[str, Any]:
    """Every chart of a spreadsheet, drawn from its spec and the cells of its data ranges."""
    stored = sheets.spreadsheets.get(spreadsheet_id)
    if stored is None:
        raise NotFound(f"spreadsheet {spreadsheet_id}")
    drawn = [chart for sheet in stored.sheets for chart in _drawn(stored, sheet.sheet_id)]
    return {"id": spreadsheet_id, "title": stored.title, "charts": drawn}


def _drawn(stored: Any, sheet_id: int) -> list[dict[str, Any]]:
    """The charts hosted on one tab, each with its title, tab and SVG."""

    def read(on: int, row: int, col: int) -> Any:
        sheet = stored.sheet_by_id(on)
        value = cells.unformatted(sheet.get(row, col)) if sheet is not None else None
        return None if value == "" else value

    host = stored.sheet_by_id(sheet_id)
    return [
        {
            "id": chart["chartId"],
            "title": chart["spec"].get("title") or "Untitled chart",
            "tab": host.title,
            "svg": draw_spec(chart["spec"], read),
        }
        for chart in sheet_charts.of_sheet(stored, sheet_id)
    ]


def _cell(stored: Any) -> SheetCell:
    formula = stored.text if isinstance(stored, cells.Formula) else None
    return SheetCell(cells.formatted(stored), formula)


def document(docs: Any, document_id: str) -> dict[str, Any]:
    titles = {d["documentId"]: d["title"] for d in docs.list_documents()}
    if document_id not in titles:
        raise NotFound(f"document {document_id}")
    # The Docs model escapes every piece of text it renders.
    return {"title": titles[document_id], "html": Markup(docs.render_html(document_id))}


# ---------------------------------------------------------------- Slack
def channel_label(record: dict[str, Any], users: dict[str, Any]) -> str:
    if record.get("is_im"):
        user = users.get(record.get("user", ""), {})
        return f"DM with {user.get('real_name') or record.get('user')}"
    return record.get("name", record["id"])


def slack_channel(slack: Any, channel_id: str) -> dict[str, Any]:
    """A channel's messages as its members see them: blocks rendered, threads nested, ephemerals marked."""
    record = slack.channels.get(channel_id)
    if record is None:
        found = slack.channel_by_name(channel_id)
        record = slack.channels.get(found["id"]) if found else None
    if record is None:
        raise NotFound(f"channel {channel_id}")
    users = {uid: u.get("real_name") or u.get("name", uid) for uid, u in slack.users.items()}
    channel_names = {cid: c.get("name", cid) for cid, c in slack.channels.items()}
    renderer = BlockRenderer(users, channel_names)
    messages = []
    for message in slack.messages(record["id"], include_ephemeral=True):
        shown = _message(message, users, renderer)
        if message.get("reply_count") and not message.get("is_ephemeral"):
            thread = slack.replies(record["id"], message["ts"])[1:]
            thread += [
                e
                for e in slack.ephemerals
                if e["channel"] == record["id"] and e.get("thread_ts") == message["ts"]
            ]
            thread.sort(key=lambda m: float(m["ts"]))
            shown["replies"] = [_message(reply, users, renderer) for reply in thread]
        messages.append(shown)
    return {
        "channel": {
            "id": record["id"],
            "name": channel_label(record, slack.users),
            "private": record.get("is_private", False),
            "archived": record.get("is_archived", False),
            "members": [users.get(m, m) for m in record.get("members", [])],
        },
        "messages": messages,
    }


def _message(
    message: dict[str, Any], users: dict[str, str], renderer: BlockRenderer
) -> dict[str, Any]:
    author = message.get("user") or message.get("bot_id") or "?"
    blocks = message.get("blocks")
    body = (
        renderer.blocks(blocks)
        if blocks
        else mrkdwn(message.get("text", ""), users, renderer.channels)
    )
    return {
        "ts": message["ts"],
        "when": datetime.fromtimestamp(float(message["ts"]), UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "author": users.get(author, author),
        "is_bot": bool(message.get("bot_id")),
        "body": body,
        "fallback": mrkdwn(message.get("text", ""), users, renderer.channels) if blocks else "",
        "ephemeral_for": users.get(message["visible_to"], message["visible_to"])
        if message.get("is_ephemeral")
        else None,
        "edited": bool(message.get("edited")),
        "deleted": message.get("subtype") == "tombstone",
        "replies": [],
    }
