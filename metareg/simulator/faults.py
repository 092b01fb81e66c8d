"""Misbehaving registries: an ASGI middleware that puts faults in front of any app.

Each fault of the scenario (`[[faults]]`) hits a request with its `probability`, drawn
from a generator seeded by the scenario seed, the registry and the fault, so the same
sequence of requests meets the same faults. A fault starts after `after_requests`.

- `slow`: waits `delay_seconds` before answering.
- `down`: answers 503 with no Retry-After and no usable body (an unreachable registry
  as an HTTP client sees one behind a load balancer).
- `rate-limit`: 429 with `Retry-After: <retry_after>`.
- `error`: the given 5xx status with a problem body.
- `truncate`: the JSON body cut in half (a complete HTTP response of broken JSON).
- `repeat-pages`: answers the previous request's page again (same query as before), so
  the client sees items twice and must stay idempotent.
- `reorder`: shuffles the items of a page.
- `reset-cursor`: a request carrying a cursor gets 410 Gone (`/cursor-expired`).
- `schema-change`: renames fields of every record (`rename`, default action_date->date),
  as a registry upgrading its software without telling anyone would.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

import orjson

from metareg.simulator.scenario import FaultSpec

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PROBLEM_BASE = "https://metareg.example/problems"
BODY_FAULTS = frozenset({"truncate", "reorder", "schema-change"})


class FaultInjector:
    def __init__(
        self,
        app: ASGIApp,
        faults: list[FaultSpec],
        seed: int,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.app = app
        self.faults = faults
        self.sleep = sleep
        self.requests = 0
        self.hits: dict[str, int] = {}
        self._rngs = [
            random.Random(
                int.from_bytes(
                    hashlib.sha256(f"{seed}|{f.registry}|{f.kind}|{n}".encode()).digest()[:8],
                    "big",
                )
            )
            for n, f in enumerate(faults)
        ]
        self._previous_query: dict[str, bytes] = {}

    def _active(self) -> list[FaultSpec]:
        active = []
        for fault, rng in zip(self.faults, self._rngs, strict=True):
            draw = rng.random()  # drawn on every request, so the sequence never shifts
            if self.requests > fault.after_requests and draw < fault.probability:
                active.append(fault)
                self.hits[fault.kind] = self.hits.get(fault.kind, 0) + 1
        return active

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.requests += 1
        active = self._active()
        kinds = {f.kind for f in active}
        path = str(scope.get("path", ""))
        query = bytes(scope.get("query_string", b""))
        for fault in active:
            if fault.kind == "slow":
                await self.sleep(fault.delay_seconds)
        if "down" in kinds:
            await _respond(send, 503, b"", "text/plain", {})
            return
        for fault in active:
            if fault.kind == "rate-limit":
                await _problem(
                    send,
                    429,
                    "rate-limited",
                    "too many requests",
                    {"retry-after": str(fault.retry_after)},
                )
                return
            if fault.kind == "error":
                await _problem(send, fault.status, "server-error", "registry error")
                return
        if "reset-cursor" in kinds and parse_qs(query.decode("latin-1")).get("cursor"):
            await _problem(send, 410, "cursor-expired", "cursor no longer accepted")
            return
        if "repeat-pages" in kinds and path in self._previous_query:
            scope = dict(scope)
            scope["query_string"] = self._previous_query[path]
        else:
            self._previous_query[path] = query
        body_faults = [f for f in active if f.kind in BODY_FAULTS]
        if not body_faults or not path.startswith("/exchange/"):
            await self.app(scope, receive, send)
            return
        await self._rewritten(scope, receive, send, body_faults)

    async def _rewritten(
        self, scope: Scope, receive: Receive, send: Send, faults: list[FaultSpec]
    ) -> None:
        """Run the app, buffer its answer, and spoil the body as the faults say."""
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        if start.get("status") == 200:
            body = self._spoil(body, faults)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send(
            {"type": "http.response.start", "status": start.get("status", 500), "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})

    def _spoil(self, body: bytes, faults: list[FaultSpec]) -> bytes:
        kinds = {f.kind: f for f in faults}
        try:
            page = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
        if isinstance(page, dict) and isinstance(page.get("items"), list):
            if "reorder" in kinds:
                self._rngs[self.faults.index(kinds["reorder"])].shuffle(page["items"])
            if "schema-change" in kinds:
                page["items"] = [
                    _rename(item, kinds["schema-change"].rename) for item in page["items"]
                ]
        out = orjson.dumps(page)
        if "truncate" in kinds:
            out = out[: len(out) // 2]
        return out


def _rename(item: Any, rename: dict[str, str]) -> Any:
    if not isinstance(item, dict):
        return item
    if isinstance(item.get("record"), dict):  # a change item
        return {**item, "record": _rename(item["record"], rename)}
    return {rename.get(k, k): v for k, v in item.items()}


async def _respond(
    send: Send, status: int, body: bytes, media_type: str, extra: dict[str, str]
) -> None:
    headers = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in extra.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _problem(
    send: Send, status: int, kind: str, title: str, extra: dict[str, str] | None = None
) -> None:
    body = orjson.dumps({"type": f"{PROBLEM_BASE}/{kind}", "title": title, "status": status})
    await _respond(send, status, body, "application/problem+json", extra or {})


def with_faults(app: ASGIApp, faults: list[FaultSpec], seed: int) -> ASGIApp:
    """`app` behind the faults that concern it (itself when there are none)."""
    return FaultInjector(app, faults, seed) if faults else app
