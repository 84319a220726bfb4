"""The sandbox's own control API under /_sandbox/: health, reset, seed, faults, limits, clock, journal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.core import Workspace


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=status)


def control_routes(sandbox: Workspace) -> list[Route]:
    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "services": sorted(sandbox.services)})

    async def reset(request: Request) -> JSONResponse:
        body = await _json(request)
        sandbox.apply_seed(str(body.get("seed", "empty")))
        sandbox.journal.clear()
        sandbox.faults.clear()
        sandbox.limiter.reset()
        return JSONResponse({"ok": True})

    async def seed(request: Request) -> JSONResponse:
        body = await _json(request)
        sandbox.apply_seed(str(body.get("seed", "demo")))
        return JSONResponse({"ok": True})

    async def faults(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            sandbox.faults.clear()
            return JSONResponse({"ok": True})
        if request.method == "GET":
            return JSONResponse({"ok": True, "rules": [vars(r) for r in sandbox.faults.rules]})
        body = await _json(request)
        if "seed" in body:
            sandbox.faults.reseed(int(body.pop("seed")))
        try:
            rules = [
                sandbox.faults.add(**spec) for spec in body.get("rules", [body] if body else [])
            ]
        except (TypeError, ValueError) as exc:
            return _error(str(exc))
        return JSONResponse({"ok": True, "rules": [vars(r) for r in rules]})

    async def limits(request: Request) -> JSONResponse:
        if request.method == "POST":
            body = await _json(request)
            if "enabled" in body:
                sandbox.limiter.enabled = bool(body["enabled"])
            if "time_scale" in body:
                scale = float(body["time_scale"])
                if scale <= 0:
                    return _error("time_scale must be positive")
                sandbox.clock.scale = scale
            sandbox.limiter.reset()
        return JSONResponse(
            {
                "ok": True,
                "enabled": sandbox.limiter.enabled,
                "time_scale": sandbox.clock.scale,
                "rejections": dict(sandbox.limiter.rejections),
            }
        )

    async def clock(request: Request) -> JSONResponse:
        """The services' wall clock: POST {"offset_seconds": n} sets it n s off real time."""
        if request.method == "POST":
            body = await _json(request)
            try:
                sandbox.clock.offset = timedelta(seconds=float(body.get("offset_seconds", 0)))
            except (TypeError, ValueError):
                return _error("offset_seconds must be a number")
        return JSONResponse(
            {
                "ok": True,
                "offset_seconds": sandbox.clock.offset.total_seconds(),
                "now": sandbox.clock.utcnow().isoformat(),
            }
        )

    async def journal(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            sandbox.journal.clear()
            return JSONResponse({"ok": True})
        since = int(request.query_params.get("since", 0))
        service = request.query_params.get("service")
        return JSONResponse(
            {
                "ok": True,
                "last_seq": sandbox.journal.last_seq,
                "entries": sandbox.journal.as_dicts(since, service),
            }
        )

    async def state(request: Request) -> JSONResponse:
        return JSONResponse(sandbox.snapshot())

    return [
        Route("/_sandbox/health", health),
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/seed", seed, methods=["POST"]),
        Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/limits", limits, methods=["GET", "POST"]),
        Route("/_sandbox/clock", clock, methods=["GET", "POST"]),
        Route("/_sandbox/journal", journal, methods=["GET", "DELETE"]),
        Route("/_sandbox/state", state),
    ]


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    import json

    data = json.loads(raw)
    return data if isinstance(data, dict) else {}
