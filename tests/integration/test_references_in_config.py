"""services.yaml references as staff paste them: the base by its airtable.com link, a table by id, a Drive folder by link, a channel by link."""

from __future__ import annotations

from typing import Any

import pytest

from integrations import airtable, docs
from integrations.clients import airtable_api, drive_service, slack_client
from integrations.slack import channel_id


def test_base_and_table_by_link_and_id(demo: Any) -> None:
    model = demo.services["airtable"]
    base_id = model.find_base("Coalition")
    base = airtable.open_base(
        airtable_api(), f"https://airtable.com/{base_id}/tblAAAAAAAAAAAAAA?blocks=hide"
    )
    assert base.id == base_id
    members = airtable.open_table(base, "Members")
    by_id = airtable.open_table(base, base.schema().table("Members").id)
    assert by_id.name == "Members" and by_id.fields == members.fields
    with pytest.raises(airtable.AirtableNotFound, match="not understood"):
        airtable.open_base(airtable_api(), "https://example.org/base")


def test_folder_by_link_and_channel_by_link(demo: Any) -> None:
    drive = drive_service()
    folder = docs.create_folder(drive, "Weekly summaries (linked)")
    link = f"https://drive.google.com/drive/u/0/folders/{folder}?usp=sharing"
    assert docs.find_folder(drive, link) == folder
    assert docs.find_folder(drive, "https://drive.google.com/drive/folders/1" + "n" * 32) is None
    slack = demo.services["slack"]
    ops = slack.channel_by_name("ops-alerts")
    client = slack_client()
    assert channel_id(client, f"https://coalition.slack.com/archives/{ops['id']}") == ops["id"]
    assert channel_id(client, f"<#{ops['id']}|ops-alerts>") == ops["id"]
    assert channel_id(client, "#Ops-Alerts") == ops["id"]
