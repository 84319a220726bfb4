"""Serve a Sandbox with uvicorn: in the foreground for the CLI, or in a thread for tests and the demo."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

import uvicorn

from integrations.serving import free_port, quiet_config, serve_in_thread
from sandbox.app import Sandbox


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
    # the sandbox dates its replies by its own clock (SandboxMiddleware)
    return quiet_config(
        sandbox.asgi(), host, port, lifespan="on", timeout_keep_alive=30, date_header=False
    )


def start_in_thread(
    sandbox: Sandbox, host: str = "127.0.0.1", port: int | None = None
) -> RunningSandbox:
    """Start the sandbox on a free port in a daemon thread and wait until it answers."""
    port = port or free_port(host)
    sandbox.base_url = f"http://{host}:{port}"
    running = serve_in_thread(_config(sandbox, host, port), "sandbox")
    return RunningSandbox(sandbox, sandbox.base_url, running.server, running.thread)


def serve_forever(sandbox: Sandbox, host: str, port: int) -> None:
    """Serve until Ctrl-C; the state file (if any) is saved on the way out."""
    sandbox.base_url = f"http://{host}:{port}"
    # uvicorn re-raises the Ctrl-C it handled; the server has already shut down cleanly.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(_config(sandbox, host, port)).run()
