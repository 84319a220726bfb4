"""The README's Slack app commands, run as written against a demo sandbox (issue 17).

`coalition slack serve --port 3000` then `coalition sandbox slash --app-url
http://127.0.0.1:3000/slack/events "/coalition help"`: the answer the person sees is
printed, and the app listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from test_sandbox_cli import COALITION, start, stop

from sandbox.runner import free_port

README = Path(__file__).resolve().parents[2] / "README.md"


def documented(prefix: str) -> list[str]:
    """The README's command line starting with `prefix`, as words (comments dropped)."""
    for line in README.read_text().splitlines():
        if line.startswith(prefix):
            command = line.split("  #")[0].strip()
            return re.findall(r'"[^"]*"|\S+', command)
    raise AssertionError(f"README documents no `{prefix}...` command")


def _port_of(words: list[str], default: int) -> int:
    return int(words[words.index("--port") + 1]) if "--port" in words else default


def test_the_readme_slash_example_prints_the_answer(tmp_path: Path) -> None:
    serve_words = documented("coalition slack serve")
    slash_words = documented("coalition sandbox slash")
    assert serve_words[:3] == ["coalition", "slack", "serve"]
    # The documented port may be taken on a shared machine: the same command on a free one.
    port = free_port()
    serve_args = [w if w != str(_port_of(serve_words, 3000)) else str(port) for w in serve_words]
    sandbox, url = start("--seed", "demo")
    env = {**os.environ, "COALITION_SANDBOX_URL": url, "COALITION_VAR_DIR": str(tmp_path)}
    env.pop("SLACK_APP_TOKEN", None)
    app = subprocess.Popen(
        [COALITION, *serve_args[1:]], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/slack/events", timeout=1)
                break
            except httpx.HTTPError:
                if app.poll() is not None:
                    pytest.fail(f"slack serve stopped: {app.stderr.read() if app.stderr else ''}")
                time.sleep(0.3)
        slash = [w.replace(":3000/", f":{port}/").strip('"') for w in slash_words[1:]]
        result = subprocess.run(
            [COALITION, *slash], capture_output=True, text=True, timeout=120, env=env
        )
    finally:
        app.send_signal(signal.SIGINT)
        try:
            out, err = app.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            app.kill()
            out, err = app.communicate()
        stop(sandbox)
    assert result.returncode == 0, result.stdout + result.stderr
    answer = result.stdout
    assert "Commands you can use" in answer and "/coalition why INTAKE-ID" in answer, answer
    assert '"status": 200' not in answer  # the answer, not the acknowledgement's JSON
    assert f"http://127.0.0.1:{port}/slack/events" in out + err  # listens on 127.0.0.1
    assert "Traceback" not in out + err
