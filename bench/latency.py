"""Acknowledgement latency of the Slack app: signed slash commands fired at once, p50, p99 and max.

The client is lean on purpose: each command gets its own connection, opened before
the clock starts, and is written as raw HTTP/1.1 bytes signed like Slack signs them
(sandbox/slack/app_side). Time runs from just before a request is written to the end
of its reply, so what is measured is the app's acknowledgement, not an HTTP
library's own work. A reply that is not HTTP 200, or comes later than Slack's 3 s,
is a failure. `python -m bench.latency` runs the client in a process of its own (the
bench does, so the sandbox answering the app does not share its interpreter lock);
`measure_ack_latency` runs it in this one (tests).

Answers after the ack go to each command's response_url (`response_url` gives one
per command; by default a URL the sandbox does not know, so the app falls back to
chat.postEphemeral).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bot.runtime import SANDBOX_SIGNING_SECRET
from sandbox.slack import app_side
from sandbox.slack.models import APP_ID, TEAM_DOMAIN, TEAM_ID

SLACK_TIMEOUT = app_side.ACK_SECONDS  # later than this, Slack shows the person an error


@dataclass(frozen=True)
class LatencyStats:
    """Acknowledgement times of one burst, in milliseconds."""

    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    failures: int  # not acknowledged with HTTP 200 within Slack's 3 s (refused, late, unreachable)

    def line(self) -> str:
        return (
            f"{self.count} concurrent commands: p50 {self.p50_ms:.1f} ms, "
            f"p99 {self.p99_ms:.1f} ms, max {self.max_ms:.1f} ms, failures {self.failures}"
        )


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (share 0.5 = median); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(math.ceil(share * len(ordered)), 1)
    return ordered[min(rank, len(ordered)) - 1]


def stats(times: Sequence[float], failures: int) -> LatencyStats:
    return LatencyStats(
        count=len(times),
        p50_ms=percentile(times, 0.50),
        p99_ms=percentile(times, 0.99),
        max_ms=max(times, default=0.0),
        failures=failures,
    )


def command_body(
    text: str, user: str, channel_id: str, channel_name: str, response_url: str, n: int
) -> bytes:
    """A slash command's form body as Slack sends it."""
    fields = app_side.slash_command_fields(
        team={"id": TEAM_ID, "domain": TEAM_DOMAIN},
        channel={"id": channel_id, "name": channel_name},
        user={"id": user, "name": user.lower()},
        command="/coalition",
        text=text,
        response_url=response_url,
        trigger_id=f"{int(time.time())}.{n}.bench",
        api_app_id=APP_ID,
        token="bench",
    )
    return app_side.encode_form(fields)


def signed_request(app_url: str, secret: str, body: bytes) -> bytes:
    """The raw HTTP/1.1 request Slack would send: signed headers, then the body."""
    url = urlsplit(app_url)
    headers = {
        "Host": url.netloc,
        **app_side.signed_headers(secret, body),
        "Content-Length": str(len(body)),
        "Connection": "close",
    }
    head = f"POST {url.path or '/'} HTTP/1.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()
    )
    return head.encode("latin-1") + b"\r\n" + body


async def _exchange(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], raw: bytes
) -> tuple[float, int]:
    """(milliseconds from writing the request to the end of its reply, HTTP status or 0)."""
    reader, writer = connection
    started = time.perf_counter()
    status = 0
    try:
        writer.write(raw)
        async with asyncio.timeout(SLACK_TIMEOUT * 3):
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
    except (OSError, TimeoutError, ValueError, IndexError, asyncio.IncompleteReadError):
        status = status or 0
    finally:
        writer.close()
    return (time.perf_counter() - started) * 1000, status


async def fire(app_url: str, requests: Sequence[bytes]) -> tuple[list[float], int]:
    """Open one connection per request, then write them all at once; (times, failures)."""
    url = urlsplit(app_url)
    connections = await asyncio.gather(
        *(asyncio.open_connection(url.hostname, url.port or 80) for _ in requests)
    )
    await asyncio.sleep(0.2)  # the app accepts them all first, as Slack's kept-alive ones would be
    results = await asyncio.gather(
        *(_exchange(c, r) for c, r in zip(connections, requests, strict=True))
    )
    times = [t for t, _ in results]
    late = SLACK_TIMEOUT * 1000
    return times, sum(1 for t, status in results if status != 200 or t > late)


def requests_for(
    app_url: str,
    count: int,
    *,
    text: str,
    user: str,
    channel_id: str,
    channel: str,
    secret: str,
    response_url: Callable[[int], str],
) -> list[bytes]:
    return [
        signed_request(
            app_url, secret, command_body(text, user, channel_id, channel, response_url(n), n)
        )
        for n in range(count)
    ]


def measure_ack_latency(
    sandbox_url: str,
    app_url: str,
    count: int = 20,
    *,
    text: str = "help",
    user: str = "U0DEMOSTF01",
    channel: str = "intake-triage",
    signing_secret: str = SANDBOX_SIGNING_SECRET,
    response_url: Callable[[int], str] | None = None,
) -> LatencyStats:
    """Send `count` signed `/coalition text` at once from this process and time each acknowledgement."""
    base = sandbox_url.rstrip("/")
    found = httpx.get(f"{base}/_sandbox/slack/channels/{channel}/messages", timeout=30)
    channel_id = found.json().get("channel") or channel
    requests = requests_for(
        app_url,
        count,
        text=text,
        user=user,
        channel_id=channel_id,
        channel=channel,
        secret=signing_secret,
        response_url=response_url or (lambda n: f"{base}/hooks/commands/bench-latency"),
    )
    return stats(*asyncio.run(fire(app_url, requests)))


def fire_in_child(app_url: str, requests: Sequence[bytes]) -> LatencyStats:
    """`fire` in a process of its own (`python -m bench.latency`), so nothing else in this one slows the client."""
    spec = {"app_url": app_url, "requests": [r.decode("latin-1") for r in requests]}
    done = subprocess.run(
        [sys.executable, "-m", "bench.latency"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return LatencyStats(**json.loads(done.stdout.strip().splitlines()[-1]))


@dataclass
class AppProcess:
    """`coalition slack serve` running in a child process."""

    url: str
    process: subprocess.Popen
    log: Path

    def cpu_seconds(self) -> float:
        """User and system CPU the app has used so far (Linux /proc; 0.0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_problems(self) -> list[str]:
        """Lines of the app's log at WARNING or worse, or with a traceback (the sandbox notice aside)."""
        words = ("WARNING", "ERROR", "CRITICAL", "Traceback")
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return [
            line
            for line in text.splitlines()
            if any(w in line for w in words) and "SANDBOX MODE" not in line
        ]


@contextmanager
def served_app(port: int, log: Path, timeout: float = 60.0) -> Iterator[AppProcess]:
    """Run `coalition slack serve --port PORT` with this process's environment until the block ends."""
    command = [
        str(Path(sys.executable).with_name("coalition")),
        "slack",
        "serve",
        "--port",
        str(port),
    ]
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    app = AppProcess(f"http://127.0.0.1:{port}/slack/events", process, log)
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"coalition slack serve did not start; see {log}")
            time.sleep(0.1)
        yield app
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def main() -> int:
    """Fire the requests described on stdin (JSON: app_url, requests as latin-1 text); print the stats."""
    spec = json.load(sys.stdin)
    raw = [r.encode("latin-1") for r in spec["requests"]]
    print(json.dumps(asdict(stats(*asyncio.run(fire(spec["app_url"], raw))))))
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "AppProcess",
    "LatencyStats",
    "command_body",
    "fire",
    "fire_in_child",
    "measure_ack_latency",
    "percentile",
    "requests_for",
    "served_app",
    "signed_request",
    "stats",
]
