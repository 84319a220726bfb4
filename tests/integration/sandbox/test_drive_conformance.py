"""The Drive emulator against google-api-python-client and gspread over HTTP (FACTS.md, Drive v3)."""

from __future__ import annotations

import json

import gspread
import pytest
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaInMemoryUpload

from coalition.settings import reload_settings
from integrations.clients import drive_service, sheets_client

FOLDER = "application/vnd.google-apps.folder"
DOC = "application/vnd.google-apps.document"
SHEET = "application/vnd.google-apps.spreadsheet"
AUTH = {"Authorization": "Bearer test-token"}


@pytest.fixture(autouse=True)
def fast_budgets(sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot's clients pace themselves at Google's quotas; sped up here so tests need not wait."""
    monkeypatch.setenv("COALITION_TIME_SCALE", "1000")
    reload_settings()


@pytest.fixture
def drive(sandbox):
    return drive_service()


@pytest.fixture
def gc(sandbox) -> gspread.Client:
    return sheets_client()


def create(drive, name: str, mime: str, parents: list[str] | None = None, **extra) -> dict:
    body = {"name": name, "mimeType": mime, **extra}
    if parents:
        body["parents"] = parents
    return drive.files().create(body=body, fields="id,name,mimeType,parents").execute()


def names(drive, q: str, **kwargs) -> list[str]:
    reply = drive.files().list(q=q, fields="files(name)", orderBy="name", **kwargs).execute()
    return [f["name"] for f in reply["files"]]


def error_of(call) -> tuple[int, dict]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    return caught.value.resp.status, json.loads(caught.value.content)


# ------------------------------------------------------------------ files.create / get
def test_create_folder_document_and_spreadsheet_in_a_folder(drive, sandbox) -> None:
    folder = create(drive, "Weekly summaries", FOLDER)
    assert folder["mimeType"] == FOLDER and len(folder["id"]) == 33
    doc = create(drive, "Week 5", DOC, [folder["id"]])
    sheet = create(drive, "Referrals", SHEET, [folder["id"]])
    assert doc["parents"] == [folder["id"]] and sheet["parents"] == [folder["id"]]
    sheets = sandbox.services["sheets"]
    assert sheets.find_by_title("Referrals") == sheet["id"]
    assert sheets.tabs(sheet["id"]) == ["Sheet1"]
    docs = sandbox.services["docs"]
    if hasattr(docs, "has_document"):
        assert docs.has_document(doc["id"])


def test_get_honours_fields_and_defaults(drive) -> None:
    folder = create(drive, "Partner referrals", FOLDER)
    default = drive.files().get(fileId=folder["id"]).execute()
    assert default == {
        "kind": "drive#file",
        "id": folder["id"],
        "name": "Partner referrals",
        "mimeType": FOLDER,
    }
    some = drive.files().get(fileId=folder["id"], fields="id,webViewLink,trashed").execute()
    assert set(some) == {"id", "webViewLink", "trashed"}
    assert some["trashed"] is False
    assert drive.files().get(fileId="root", fields="name").execute() == {"name": "My Drive"}


def test_unknown_file_is_404_in_drives_shape(drive) -> None:
    status, body = error_of(drive.files().get(fileId="1nope"))
    assert status == 404
    assert body == {
        "error": {
            "code": 404,
            "message": "File not found: 1nope.",
            "errors": [
                {
                    "message": "File not found: 1nope.",
                    "domain": "global",
                    "reason": "notFound",
                    "location": "fileId",
                    "locationType": "parameter",
                }
            ],
            "status": "NOT_FOUND",
        }
    }


def test_generated_ids_can_be_used_to_create(drive) -> None:
    ids = drive.files().generateIds(count=3).execute()["ids"]
    assert len(set(ids)) == 3
    made = (
        drive.files().create(body={"id": ids[0], "name": "Pre-named", "mimeType": FOLDER}).execute()
    )
    assert made["id"] == ids[0]
    status, body = error_of(drive.files().create(body={"id": ids[0], "name": "Again"}))
    assert status == 409 and body["error"]["errors"][0]["reason"] == "duplicate"


def test_create_in_a_missing_folder_is_404(drive) -> None:
    status, body = error_of(
        drive.files().create(body={"name": "x", "mimeType": SHEET, "parents": ["1missing"]})
    )
    assert status == 404
    assert body["error"]["message"] == "File not found: 1missing."


# ------------------------------------------------------------------ files.list and q
def test_q_filters_by_name_parents_mime_type_and_trash(drive) -> None:
    folder = create(drive, "Weekly summaries", FOLDER)
    create(drive, "Week 2026-W05 summary", DOC, [folder["id"]])
    create(drive, "Week 2026-W06 summary", DOC, [folder["id"]])
    create(drive, "Intake", SHEET)
    old = create(drive, "Intake (old)", SHEET)
    drive.files().update(fileId=old["id"], body={"trashed": True}).execute()
    fid = folder["id"]
    assert names(drive, "name = 'Intake'") == ["Intake"]
    assert names(drive, "name contains 'Intake'") == ["Intake", "Intake (old)"]
    assert names(drive, "name contains 'Intake' and trashed = false") == ["Intake"]
    assert names(drive, "trashed = true") == ["Intake (old)"]
    assert names(drive, f"'{fid}' in parents") == ["Week 2026-W05 summary", "Week 2026-W06 summary"]
    assert names(
        drive, f"mimeType = '{FOLDER}' and name = 'Weekly summaries' and trashed = false"
    ) == ["Weekly summaries"]
    assert names(drive, f"'{fid}' in parents and (name contains 'eek' or name = 'nothing')") == []
    assert names(
        drive, f"'{fid}' in parents and (name contains '2026-W05' or name = 'Intake')"
    ) == ["Week 2026-W05 summary"]
    assert names(drive, f"not mimeType = '{DOC}' and 'root' in parents and trashed = false") == [
        "Intake",
        "Weekly summaries",
    ]
    reply = (
        drive.files()
        .list(
            q="name = 'Intake'",
            supportsAllDrives=True,
            includeItemsFromAllDrives=True,
            fields="files(id)",
        )
        .execute()
    )
    assert len(reply["files"]) == 1


def test_list_defaults_paging_and_order(drive) -> None:
    for n in range(5):
        create(drive, f"Sheet {n}", SHEET)
    first = drive.files().list(pageSize=2, orderBy="name desc").execute()
    assert first["kind"] == "drive#fileList"
    assert set(first["files"][0]) == {"kind", "id", "name", "mimeType"}
    seen = [f["name"] for f in first["files"]]
    token = first["nextPageToken"]
    while token:
        page = drive.files().list(pageSize=2, orderBy="name desc", pageToken=token).execute()
        seen += [f["name"] for f in page["files"]]
        token = page.get("nextPageToken")
    assert seen == [f"Sheet {n}" for n in range(4, -1, -1)]
    status, body = error_of(drive.files().list(pageSize=2, pageToken="bogus"))
    assert status == 400 and body["error"]["errors"][0]["location"] == "pageToken"


def test_invalid_q_is_400(drive) -> None:
    status, body = error_of(drive.files().list(q="name = "))
    assert status == 400
    assert body["error"]["message"] == "Invalid Value"
    assert body["error"]["errors"][0]["location"] == "q"


# ------------------------------------------------------------------ update / delete / copy
def test_rename_move_and_trash(drive, gc) -> None:
    a = create(drive, "Folder A", FOLDER)
    b = create(drive, "Folder B", FOLDER)
    sheet = create(drive, "Draft", SHEET, [a["id"]])
    moved = (
        drive.files()
        .update(
            fileId=sheet["id"],
            addParents=b["id"],
            removeParents=a["id"],
            body={"name": "Final"},
            fields="name,parents",
        )
        .execute()
    )
    assert moved == {"name": "Final", "parents": [b["id"]]}
    assert gc.open_by_key(sheet["id"]).title == "Final"  # the spreadsheet follows its Drive name
    assert names(drive, f"'{a['id']}' in parents") == []
    drive.files().update(fileId=b["id"], body={"trashed": True}).execute()
    assert names(drive, f"'{b['id']}' in parents and trashed = false") == []
    assert drive.files().get(fileId=sheet["id"], fields="trashed").execute() == {"trashed": True}
    status, body = error_of(
        drive.files().update(fileId=sheet["id"], addParents="1missing", body={})
    )
    assert body["error"]["message"] == "File not found: 1missing."
    assert status == 404


def test_delete_removes_the_file_and_its_contents(drive, sandbox) -> None:
    folder = create(drive, "Old", FOLDER)
    sheet = create(drive, "Old sheet", SHEET, [folder["id"]])
    doc = create(drive, "Old doc", DOC, [folder["id"]])
    drive.files().delete(fileId=folder["id"]).execute()
    for file_id in (folder["id"], sheet["id"], doc["id"]):
        status, _ = error_of(drive.files().get(fileId=file_id))
        assert status == 404
    assert sandbox.services["sheets"].find_by_title("Old sheet") is None
    reply = sandbox.http.get(f"/v4/spreadsheets/{sheet['id']}", headers=AUTH)
    assert reply.status_code == 404


def test_copy_a_spreadsheet(drive, gc, sandbox) -> None:
    sh = gc.create("Template")
    sh.sheet1.update([["Intake ID", "Status"]], "A1")
    copy = drive.files().copy(fileId=sh.id, body={"name": "Partner A referrals"}).execute()
    assert copy["name"] == "Partner A referrals"
    assert gc.open_by_key(copy["id"]).sheet1.get_all_values() == [["Intake ID", "Status"]]
    sh.sheet1.update([["changed"]], "A1")
    assert sandbox.services["sheets"].get_values(copy["id"], "Sheet1") == [["Intake ID", "Status"]]


# ------------------------------------------------------------------ uploads
def test_multipart_upload_converts_csv_and_stores_plain_files(drive, sandbox) -> None:
    media = MediaInMemoryUpload(b"name,count\nalpha,1\nbeta,2\n", mimetype="text/csv")
    converted = (
        drive.files()
        .create(
            body={"name": "Imported", "mimeType": SHEET}, media_body=media, fields="id,mimeType"
        )
        .execute()
    )
    assert converted["mimeType"] == SHEET
    assert sandbox.services["sheets"].get_values(converted["id"], "Sheet1")[2] == ["beta", "2"]
    text = (
        drive.files()
        .create(
            body={"name": "notes.txt"},
            media_body=MediaInMemoryUpload(b"hello drive", mimetype="text/plain"),
            fields="id,size,mimeType",
        )
        .execute()
    )
    assert text["size"] == "11" and text["mimeType"] == "text/plain"
    assert drive.files().get_media(fileId=text["id"]).execute() == b"hello drive"
    status, body = error_of(drive.files().get_media(fileId=converted["id"]))
    assert status == 403 and body["error"]["errors"][0]["reason"] == "fileNotDownloadable"


# ------------------------------------------------------------------ permissions
def test_permissions_create_list_and_delete(drive) -> None:
    doc = create(drive, "Week 5", DOC)
    created = (
        drive.permissions()
        .create(
            fileId=doc["id"],
            body={"role": "reader", "type": "user", "emailAddress": "lead@example.org"},
            sendNotificationEmail=False,
        )
        .execute()
    )
    assert set(created) == {"kind", "id", "type", "role"}
    assert created["role"] == "reader"
    again = (
        drive.permissions()
        .create(
            fileId=doc["id"],
            body={"role": "writer", "type": "user", "emailAddress": "lead@example.org"},
        )
        .execute()
    )
    assert again["id"] == created["id"] and again["role"] == "writer"
    anyone = (
        drive.permissions()
        .create(fileId=doc["id"], body={"role": "reader", "type": "anyone"})
        .execute()
    )
    assert anyone["id"] == "anyoneWithLink"
    listed = (
        drive.permissions()
        .list(fileId=doc["id"], fields="permissions(id,role,emailAddress)")
        .execute()
    )
    roles = {p.get("emailAddress", "anyone"): p["role"] for p in listed["permissions"]}
    assert roles["lead@example.org"] == "writer"
    assert "owner" in roles.values()
    drive.permissions().delete(fileId=doc["id"], permissionId=created["id"]).execute()
    listed = drive.permissions().list(fileId=doc["id"]).execute()
    assert created["id"] not in {p["id"] for p in listed["permissions"]}


def test_invalid_permissions_are_refused(drive) -> None:
    doc = create(drive, "Week 6", DOC)
    status, body = error_of(
        drive.permissions().create(
            fileId=doc["id"], body={"role": "boss", "type": "user", "emailAddress": "a@b.org"}
        )
    )
    assert status == 400 and body["error"]["errors"][0]["reason"] == "invalid"
    status, _ = error_of(
        drive.permissions().create(fileId=doc["id"], body={"role": "reader", "type": "user"})
    )
    assert status == 400
    status, _ = error_of(
        drive.permissions().create(
            fileId=doc["id"], body={"role": "owner", "type": "user", "emailAddress": "a@b.org"}
        )
    )
    assert status == 403
    status, _ = error_of(
        drive.permissions().create(fileId="1nope", body={"role": "reader", "type": "anyone"})
    )
    assert status == 404


# ------------------------------------------------------------------ gspread through Drive
def test_gspread_create_open_list_share_and_delete(gc, drive) -> None:
    folder = create(drive, "Partner referrals", FOLDER)
    in_folder = gc.create("Partner A", folder_id=folder["id"])
    loose = gc.create("Member Directory")
    assert gc.open("Member Directory").id == loose.id
    assert gc.open("Partner A", folder_id=folder["id"]).id == in_folder.id
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        gc.open("Partner A", folder_id=loose.id)
    listed = {f["name"] for f in gc.list_spreadsheet_files()}
    assert listed == {"Partner A", "Member Directory"}
    assert [f["name"] for f in gc.list_spreadsheet_files(folder_id=folder["id"])] == ["Partner A"]
    in_folder.share("partner-a@example.org", perm_type="user", role="writer", notify=False)
    emails = {p.get("emailAddress") for p in in_folder.list_permissions()}
    assert "partner-a@example.org" in emails
    assert in_folder.remove_permissions("partner-a@example.org")
    assert "partner-a@example.org" not in {
        p.get("emailAddress") for p in in_folder.list_permissions()
    }
    assert in_folder.creationTime.endswith("Z")
    gc.del_spreadsheet(loose.id)
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        gc.open("Member Directory")
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        gc.open_by_key(loose.id)


def test_model_api_for_other_services(sandbox) -> None:
    drive = sandbox.services["drive"]
    folder = drive.create_file("Weekly summaries", FOLDER)
    sheet = drive.create_file("Roster", SHEET, parents=[folder["id"]])
    assert (
        drive.find_files(name="Roster", mime_type=SHEET, parent=folder["id"])[0]["id"]
        == sheet["id"]
    )
    assert drive.find_files(parent="root", mime_type=FOLDER)[0]["name"] == "Weekly summaries"
    drive.register_file("1registeredByDocs", "Week 7", DOC, [folder["id"]])
    assert drive.get_file("1registeredByDocs")["parents"] == [folder["id"]]
    drive.delete_file(sheet["id"])
    assert drive.find_files(name="Roster") == []
    assert sandbox.services["sheets"].find_by_title("Roster") is None


def test_missing_token_is_401_in_drives_shape(sandbox) -> None:
    reply = sandbox.http.get("/drive/v3/files")
    assert reply.status_code == 401
    error = reply.json()["error"]
    assert error["code"] == 401 and error["status"] == "UNAUTHENTICATED"
    assert error["errors"][0]["reason"] == "required"
    assert sandbox.http.get("/drive/v3/files", headers=AUTH).status_code == 200
