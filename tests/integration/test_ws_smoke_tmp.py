import os
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"
import pytest
from coalition.settings import reload_settings

pytestmark = pytest.mark.timeout(600)

def test_smoke(demo, monkeypatch):
    monkeypatch.setenv("COALITION_TIME_SCALE", "50"); reload_settings()
    from flows.weekly_summary import weekly_summary
    report = weekly_summary()
    print(report.summary_lines())
    docs = demo.services["docs"]
    for d in docs.list_documents():
        print(d)
        print(docs.plain_text(d["documentId"])[:3000])
    print([ (e["method"], e["path"]) for e in demo.journal() if e["service"] in ("docs","drive","slack")])
    again = weekly_summary()
    print(again.summary_lines())
