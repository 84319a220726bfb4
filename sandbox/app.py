"""The sandbox ASGI app: every emulated service on one port, behind one journal/fault/auth layer."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.core import (
    Clock,
    FaultInjector,
    Journal,
    RateLimiter,
    SandboxServices,
    service_for_path,
)

# Service name -> package under sandbox/. Each package has models.py with `Backend`
# and routes.py with `routes(backend)`, `error_response(kind, status, retry_after)`
# and `is_authorized(path, headers, query_string)`.
SERVICE_PACKAGES = {
    "drive": "sandbox.drive",
    "sheets": "sandbox.sheets",
    "docs": "sandbox.docs",
    "airtable": "sandbox.airtable",
    "slack": "sandbox.slack",
    "openstates": "sandbox.openstates",
}


class Sandbox:
    """State of the whole emulated workspace plus the machinery around it."""

    def __init__(
        self,
        seed: str = "empty",
        state_file: str | Path | None = None,
        time_scale: float = 1.0,
        rate_limits: bool = False,
        fault_seed: int = 0,
    ) -> None:
        self.clock = Clock(time_scale)
        self.journal = Journal()
        self.faults = FaultInjector(fault_seed)
        self.limiter = RateLimiter(self.clock)
        self.limiter.enabled = rate_limits
        self.ctx = SandboxServices(clock=self.clock, limiter=self.limiter, journal=self.journal)
        self.services: dict[str, Any] = {}
        self.route_modules: dict[str, Any] = {}
        for name, package in SERVICE_PACKAGES.items():
            models = importlib.import_module(f"{package}.models")
            self.route_modules[name] = importlib.import_module(f"{package}.routes")
            backend = models.Backend(self.ctx)
            self.services[name] = backend
            self.ctx.models[name] = backend
        self.state_file = Path(state_file) if state_file else None
        self.base_url = ""  # set by whoever serves the app; seeds and links need it
        self._dirty = False
        if self.state_file and self.state_file.exists():
            self.restore(json.loads(self.state_file.read_text(encoding="utf-8")))
        else:
            self.apply_seed(seed)

    # ------------------------------------------------------------ state
    def apply_seed(self, seed: str) -> None:
        from sandbox.seed import apply_seed

        for backend in self.services.values():
            backend.reset()
        apply_seed(self, seed)
        self._dirty = True

    def snapshot(self) -> dict[str, Any]:
        return {name: backend.snapshot() for name, backend in self.services.items()}

    def restore(self, data: dict[str, Any]) -> None:
        for name, backend in self.services.items():
            backend.reset()
            if name in data:
                backend.restore(data[name])

    def save(self) -> None:
        if not self.state_file or not self._dirty:
            return
        self._dirty = False
        tmp = self.state_file.with_suffix(self.state_file.suffix + ".tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(self.snapshot(), default=str), encoding="utf-8")
        os.replace(tmp, self.state_file)

    def mark_dirty(self) -> None:
        self._dirty = True

    # ------------------------------------------------------------ app
    def asgi(self) -> ASGIApp:
        from sandbox.control import control_routes
        from sandbox.viewer import viewer_routes

        routes: list[BaseRoute] = list(control_routes(self))
        for name, module in self.route_modules.items():
            routes.extend(module.routes(self.services[name]))
        routes.extend(viewer_routes(self))
        app = Starlette(routes=routes, lifespan=self._lifespan)
        return SandboxMiddleware(app, self)

    def _lifespan(self, app: Starlette):
        sandbox = self

        class _Lifespan:
            async def __aenter__(self) -> None:
                self.task = asyncio.create_task(sandbox._autosave())

            async def __aexit__(self, *exc: object) -> None:
                self.task.cancel()
                sandbox.save()

        return _Lifespan()

    async def _autosave(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            self.save()


class SandboxMiddleware:
    """Journal every request; inject faults; refuse missing credentials the way each service does."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path: str = scope["path"]
        method: str = scope["method"]
        query = scope.get("query_string", b"").decode("latin-1")
        service = service_for_path(path)
        status_holder = {"status": 500}
        fault_name: str | None = None

        recorded = False

        def record() -> None:
            nonlocal recorded
            if recorded or service == "viewer":
                return
            recorded = True
            self.sandbox.journal.record(
                service=service,
                method=method,
                path=path,
                query=query,
                status=status_holder["status"],
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                fault=fault_name,
            )

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                # Every reply is dated by the sandbox's clock (which may be set off real time),
                # as a real service dates its replies by its own clock.
                date = formatdate(self.sandbox.clock.utcnow().timestamp(), usegmt=True)
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                message = {**message, "headers": [*headers, (b"date", date.encode("latin-1"))]}
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Journal before the last byte leaves, so a client that counts right after
                # its call returns always sees its own request.
                record()
            await send(message)

        response: Response | None = None
        for rule in self.sandbox.faults.pick(service, method, path):
            if rule.kind == "latency":
                await asyncio.sleep(rule.seconds)
                continue
            fault_name = rule.kind
            module = self.sandbox.route_modules.get(service)
            if rule.kind == "timeout":
                await asyncio.sleep(rule.seconds or 30)
                response = Response(status_code=504)
            elif rule.kind == "drop":
                response = Response(status_code=502)
            elif module is not None:
                kind = "429" if rule.kind == "429" else "5xx"
                status = 429 if kind == "429" else rule.status
                response = module.error_response(kind, status, 1.0)
            break
        if response is None and service in self.sandbox.route_modules:
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            module = self.sandbox.route_modules[service]
            if not module.is_authorized(path, headers, query):
                response = module.error_response("401", 401, None)
                fault_name = "unauthorized"
        if response is not None:
            await response(scope, receive, send_wrapper)
        else:
            await self.app(scope, receive, send_wrapper)
        if method not in {"GET", "HEAD", "OPTIONS"}:
            self.sandbox.mark_dirty()
        record()
