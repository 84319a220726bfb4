"""An ASGI app served by uvicorn in a daemon thread on a free port (the sandbox and the Slack app, in tests, the demo and the bench)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class ServerThread:
    """uvicorn serving one app in a daemon thread."""

    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=timeout)


def serve_in_thread(config: uvicorn.Config, name: str, timeout: float = 20.0) -> ServerThread:
    """Start `config`'s server in a daemon thread named `name`; returns once it listens."""
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start on {config.host}:{config.port}")
        time.sleep(0.02)
    return ServerThread(server, thread)


def quiet_config(app: Any, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn settings for a server in a thread: warnings only, no access log."""
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, **options
    )


__all__ = ["ServerThread", "free_port", "quiet_config", "serve_in_thread"]
