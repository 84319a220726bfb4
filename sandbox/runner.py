"""Serve a Sandbox with uvicorn: in the foreground for the CLI, or in a thread for tests and the demo."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass

import uvicorn

from sandbox.app import Sandbox


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class RunningSandbox:
    sandbox: Sandbox
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _config(sandbox: Sandbox, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        sandbox.asgi(),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_keep_alive=30,
        date_header=False,  # the sandbox dates its replies by its own clock (SandboxMiddleware)
    )


def start_in_thread(
    sandbox: Sandbox, host: str = "127.0.0.1", port: int | None = None
) -> RunningSandbox:
    """Start the sandbox on a free port in a daemon thread and wait until it answers."""
    port = port or free_port(host)
    sandbox.base_url = f"http://{host}:{port}"
    server = uvicorn.Server(_config(sandbox, host, port))
    thread = threading.Thread(target=server.run, name="sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"sandbox did not start on {host}:{port}")
        time.sleep(0.02)
    return RunningSandbox(sandbox, sandbox.base_url, server, thread)


def serve_forever(sandbox: Sandbox, host: str, port: int) -> None:
    """Serve until Ctrl-C; the state file (if any) is saved on the way out."""
    sandbox.base_url = f"http://{host}:{port}"
    # uvicorn re-raises the Ctrl-C it handled; the server has already shut down cleanly.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(_config(sandbox, host, port)).run()
