"""The sandbox's Docs API through the real google-api-python-client (and raw HTTP for what it hides)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from googleapiclient.errors import HttpError

from integrations.clients import docs_service, drive_service
from sandbox.docs.models import DOCUMENT_MIME

AUTH = {"Authorization": "Bearer test-token"}


def error_of(caught: pytest.ExceptionInfo[HttpError]) -> dict[str, Any]:
    return json.loads(caught.value.content)["error"]


@pytest.fixture
def docs(sandbox) -> Any:
    return docs_service().documents()


def test_create_then_get_returns_the_real_structure(sandbox, docs) -> None:
    created = docs.create(
        body={"title": "Weekly summary 2026-W07", "body": {"ignored": True}}
    ).execute()
    doc_id = created["documentId"]
    doc = docs.get(documentId=doc_id).execute()
    assert doc == created
    assert doc["title"] == "Weekly summary 2026-W07"
    section, paragraph = doc["body"]["content"]
    assert section == {
        "endIndex": 1,
        "sectionBreak": {
            "sectionStyle": {
                "columnSeparatorStyle": "NONE",
                "contentDirection": "LEFT_TO_RIGHT",
                "sectionType": "CONTINUOUS",
            }
        },
    }
    assert (paragraph["startIndex"], paragraph["endIndex"]) == (1, 2)
    assert sandbox.services["docs"].plain_text(doc_id) == "\n"


def test_batch_update_builds_a_summary_with_correct_indices(sandbox, docs) -> None:
    doc_id = docs.create(body={"title": "Summary"}).execute()["documentId"]
    text = "Week 7 🎉\nRaised $1,200 from {{gifts}} gifts\n"
    reply = docs.batchUpdate(
        documentId=doc_id,
        body={
            "requests": [
                {"insertText": {"location": {"index": 1}, "text": text}},
                {
                    "updateParagraphStyle": {
                        "range": {"startIndex": 1, "endIndex": 10},
                        "paragraphStyle": {"namedStyleType": "HEADING_1"},
                        "fields": "namedStyleType",
                    }
                },
                {"replaceAllText": {"containsText": {"text": "{{gifts}}"}, "replaceText": "14"}},
                {"insertTable": {"endOfSegmentLocation": {}, "rows": 2, "columns": 2}},
            ]
        },
    ).execute()
    assert reply["documentId"] == doc_id
    assert reply["replies"] == [{}, {}, {"replaceAllText": {"occurrencesChanged": 1}}, {}]
    assert reply["writeControl"]["requiredRevisionId"]
    content = docs.get(documentId=doc_id).execute()["body"]["content"]
    # "Week 7 🎉\n" is 10 units (the emoji counts 2): 1..11.
    # "Raised $1,200 from 14 gifts\n" is 28: 11..39. Then the empty paragraph 39..40,
    # into which the table went: a newline first (39..40), the table 40..51, the last 51..52.
    spans = [(e.get("startIndex"), e["endIndex"]) for e in content]
    assert spans == [(None, 1), (1, 11), (11, 39), (39, 40), (40, 51), (51, 52)]
    assert content[1]["paragraph"]["paragraphStyle"]["namedStyleType"] == "HEADING_1"
    assert content[2]["paragraph"]["paragraphStyle"]["namedStyleType"] == "NORMAL_TEXT"
    first_cell = content[4]["table"]["tableRows"][0]["tableCells"][0]
    assert first_cell["content"][0]["startIndex"] == 43


def test_errors_have_googles_shape_and_batches_are_atomic(sandbox, docs) -> None:
    doc_id = docs.create(body={"title": "Atomic"}).execute()["documentId"]
    with pytest.raises(HttpError) as caught:
        docs.batchUpdate(
            documentId=doc_id,
            body={
                "requests": [
                    {"insertText": {"location": {"index": 1}, "text": "never lands"}},
                    {"insertText": {"location": {"index": 50}, "text": "x"}},
                ]
            },
        ).execute()
    assert caught.value.resp.status == 400
    assert error_of(caught) == {
        "code": 400,
        "message": "Invalid requests[1].insertText: Index 50 must be less than the end index "
        "of the referenced segment, 13.",
        "status": "INVALID_ARGUMENT",
    }
    assert sandbox.services["docs"].plain_text(doc_id) == "\n"


def test_fields_are_required_for_style_updates(sandbox, docs) -> None:
    doc_id = docs.create(body={"title": "Styles"}).execute()["documentId"]
    request = {
        "updateTextStyle": {
            "range": {"startIndex": 1, "endIndex": 2},
            "textStyle": {"bold": True},
        }
    }
    with pytest.raises(HttpError) as caught:
        docs.batchUpdate(documentId=doc_id, body={"requests": [request]}).execute()
    assert "At least one field must be listed in 'fields'" in error_of(caught)["message"]


def test_deleting_the_final_newline_is_refused(sandbox, docs) -> None:
    doc_id = docs.create(body={"title": "Delete"}).execute()["documentId"]
    docs.batchUpdate(
        documentId=doc_id,
        body={"requests": [{"insertText": {"location": {"index": 1}, "text": "abc"}}]},
    ).execute()
    with pytest.raises(HttpError) as caught:
        docs.batchUpdate(
            documentId=doc_id,
            body={
                "requests": [{"deleteContentRange": {"range": {"startIndex": 1, "endIndex": 5}}}]
            },
        ).execute()
    assert error_of(caught)["status"] == "INVALID_ARGUMENT"
    assert "newline character at the end of the segment" in error_of(caught)["message"]


def test_unknown_document_is_404_not_found(sandbox, docs) -> None:
    with pytest.raises(HttpError) as caught:
        docs.get(documentId="1doesNotExist").execute()
    assert caught.value.resp.status == 404
    assert error_of(caught) == {
        "code": 404,
        "message": "Requested entity was not found.",
        "status": "NOT_FOUND",
    }


def test_partial_response_and_tabs(sandbox, docs) -> None:
    doc_id = docs.create(body={"title": "Fields"}).execute()["documentId"]
    partial = docs.get(documentId=doc_id, fields="title,body(content(endIndex))").execute()
    assert partial == {"title": "Fields", "body": {"content": [{"endIndex": 1}, {"endIndex": 2}]}}
    tabbed = docs.get(documentId=doc_id, includeTabsContent=True).execute()
    assert "body" not in tabbed
    assert tabbed["tabs"][0]["tabProperties"]["tabId"] == "t.0"
    assert tabbed["tabs"][0]["documentTab"]["body"]["content"][1]["endIndex"] == 2


def test_missing_credentials_are_401_unauthenticated(sandbox) -> None:
    reply = sandbox.http.post("/v1/documents", json={"title": "x"})
    assert reply.status_code == 401
    assert reply.json()["error"]["status"] == "UNAUTHENTICATED"


def test_write_quota_is_60_a_minute_with_googles_429(sandbox) -> None:
    sandbox.sandbox.limiter.enabled = True
    with httpx.Client(base_url=sandbox.url, headers=AUTH, timeout=30) as http:
        for _ in range(60):
            assert http.post("/v1/documents", json={"title": "n"}).status_code == 200
        refused = http.post("/v1/documents", json={"title": "n"})
        doc_id = sandbox.services["docs"].list_documents()[0]["documentId"]
        assert http.get(f"/v1/documents/{doc_id}").status_code == 200  # reads have their own quota
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert error["message"].startswith("Quota exceeded for quota metric 'Write requests'")
    assert "retry-after" not in refused.headers
    assert len(sandbox.services["docs"].list_documents()) == 60


def test_read_quota_is_300_a_minute(sandbox) -> None:
    doc_id = sandbox.services["docs"].create_document("Reads")
    sandbox.sandbox.limiter.enabled = True
    with httpx.Client(base_url=sandbox.url, headers=AUTH, timeout=30) as http:
        statuses = [http.get(f"/v1/documents/{doc_id}").status_code for _ in range(301)]
        refused = http.get(f"/v1/documents/{doc_id}")
    assert statuses[:300] == [200] * 300 and statuses[300] == 429
    assert "'Read requests'" in refused.json()["error"]["message"]


def test_the_client_waits_out_a_429_and_succeeds(sandbox, docs) -> None:
    doc_id = docs.create(body={"title": "Retry"}).execute()["documentId"]
    sandbox.sandbox.faults.add(kind="429", service="docs", count=1)
    doc = docs.get(documentId=doc_id).execute()
    assert doc["documentId"] == doc_id
    # The server journals a request once its reply is sent, so the last entry may trail a little.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        statuses = [e["status"] for e in sandbox.journal("docs") if e["method"] == "GET"]
        if len(statuses) >= 2:
            break
        time.sleep(0.01)
    assert statuses == [429, 200]


def test_documents_are_drive_files_both_ways(sandbox, docs) -> None:
    drive = drive_service().files()
    made_by_docs = docs.create(body={"title": "Made in Docs"}).execute()["documentId"]
    folder = drive.create(
        body={"name": "Summaries", "mimeType": "application/vnd.google-apps.folder"}
    ).execute()["id"]
    made_by_drive = drive.create(
        body={"name": "Made in Drive", "mimeType": DOCUMENT_MIME, "parents": [folder]}
    ).execute()["id"]
    listed = drive.list(q=f"mimeType = '{DOCUMENT_MIME}' and trashed = false").execute()["files"]
    assert {f["id"]: f["name"] for f in listed} == {
        made_by_docs: "Made in Docs",
        made_by_drive: "Made in Drive",
    }
    assert docs.get(documentId=made_by_drive).execute()["title"] == "Made in Drive"
    drive.update(fileId=made_by_drive, body={"name": "Renamed"}).execute()
    assert docs.get(documentId=made_by_drive).execute()["title"] == "Renamed"
    copy_id = drive.copy(fileId=made_by_drive, body={"name": "Copy"}).execute()["id"]
    assert docs.get(documentId=copy_id).execute()["title"] == "Copy"
    drive.delete(fileId=made_by_drive).execute()
    with pytest.raises(HttpError) as caught:
        docs.get(documentId=made_by_drive).execute()
    assert caught.value.resp.status == 404
