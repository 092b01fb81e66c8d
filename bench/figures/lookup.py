"""Lookup latency: `GET /v1/itmos/{id}` and `POST /v1/checks/authorization` over
loopback under an open-loop load generator, beside a raw SQL lookup loop.

The API runs in its own process (uvicorn, one worker) on a copy of the loaded index;
the generator sends requests on a fixed schedule (RATE per second) whatever the
answers do, and measures each latency from the moment the request was *due*, so a
server that falls behind is charged for the queue it builds (no coordinated
omission). The raw loop runs the index's own range query (what the endpoint starts
from) in a tight loop in this process: the floor under the HTTP figure.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from typing import Any

import httpx
from sqlalchemy import Connection, text

from bench.harness import Context, Result, engine_for, module_present, unavailable
from bench.serve import serving
from bench.world import loaded_index

NAME = "lookup"
TITLE = "lookup latency"
RATE = 300.0  # requests per second
DURATION_S = 10.0  # per run at 100k blocks and more; 1 s below (the smoke test)
SAMPLE = 2_000
GOAL_P99_MS = 15.0
GOAL_SIZE = 1_000_000


def _sample_blocks(connection: Connection, count: int, seed: int) -> list[dict[str, Any]]:
    rows = connection.execute(
        text(
            "SELECT cooperative_approach_id, party_registry_id, first_transferring_party_id, "
            "first_id, last_id, vintage FROM actions WHERE action_type = 'Issuance' "
            "ORDER BY id"
        )
    ).all()
    rng = random.Random(seed)
    chosen = rng.sample(rows, min(count, len(rows)))
    return [dict(row._mapping) for row in chosen]


def identifier(block: dict[str, Any]) -> str:
    return (
        f"{block['cooperative_approach_id']}-{block['party_registry_id']}-"
        f"{block['first_transferring_party_id']}-{block['first_id']}-{block['last_id']}-"
        f"{block['vintage']}"
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _load(
    base: str, token: str, requests: list[tuple[str, str, Any]], rate: float
) -> tuple[list[float], int, float]:
    """(latencies in ms, errors, achieved requests/s) of an open-loop run.

    A request still unanswered at the deadline (twice the schedule plus 5 s) counts as
    an error with its latency so far, so an overloaded server ends the run too."""
    latencies: list[float] = []
    errors = 0
    answered = 0
    # 16 connections, as a load generator like wrk2 would hold: enough for 300 req/s
    # at the goal's latency, without making the server juggle hundreds at once.
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    async with httpx.AsyncClient(
        base_url=base, headers={"X-API-Key": token}, limits=limits, timeout=None
    ) as client:
        start = time.perf_counter()
        deadline = start + 2 * len(requests) / rate + 5

        async def one(n: int, method: str, path: str, body: Any) -> None:
            nonlocal errors, answered
            due = start + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                response = await asyncio.wait_for(
                    client.request(method, path, json=body),
                    timeout=max(deadline - time.perf_counter(), 0.001),
                )
                if response.status_code >= 400 and response.status_code != 404:
                    errors += 1
                else:
                    answered += 1
            except (httpx.HTTPError, TimeoutError):
                errors += 1
            latencies.append((time.perf_counter() - due) * 1000)

        await asyncio.gather(*(one(n, *r) for n, r in enumerate(requests)))
        elapsed = time.perf_counter() - start
    return latencies, errors, answered / elapsed


async def _closed(
    base: str, token: str, requests: list[tuple[str, str, Any]], clients: int
) -> tuple[list[float], float]:
    """Capacity: `clients` callers each sending its next request when the last is
    answered. (latencies in ms, requests/s answered)."""
    latencies: list[float] = []
    queue = list(reversed(requests))
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": token}, timeout=60) as client:

        async def caller() -> None:
            while queue:
                method, path, body = queue.pop()
                t0 = time.perf_counter()
                await client.request(method, path, json=body)
                latencies.append((time.perf_counter() - t0) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return latencies, len(latencies) / elapsed


def _raw_loop(url: str, blocks: list[dict[str, Any]]) -> tuple[list[float], float]:
    """The index's range query for each block, closed loop: (latencies ms, lookups/s)."""
    from metareg.index import query

    latencies = []
    with engine_for(url) as engine, engine.connect() as connection:
        start = time.perf_counter()
        for block in blocks:
            t0 = time.perf_counter()
            query.intersecting(
                connection,
                block["cooperative_approach_id"],
                block["party_registry_id"],
                block["first_id"],
                block["last_id"],
            )
            latencies.append((time.perf_counter() - t0) * 1000)
        elapsed = time.perf_counter() - start
    return latencies, len(blocks) / elapsed


def run(ctx: Context) -> list[Result]:
    goal = f"p99 <= {GOAL_P99_MS:g} ms at {RATE:g} req/s, 1M blocks"
    if not module_present("metareg.web.app"):
        return [unavailable(NAME, "GET /v1/itmos/{id}", ctx.size, "metareg.web.api", goal)]
    from metareg.oversight.keys import create_key

    url = ctx.copy_of(loaded_index(ctx, ctx.size), "lookup")
    try:
        with engine_for(url) as engine:
            with engine.begin() as connection:
                _, token = create_key(connection, "bench", "oversight")
            with engine.connect() as connection:
                blocks = _sample_blocks(connection, SAMPLE, ctx.seed)
        count = int(RATE * (DURATION_S if ctx.size >= 100_000 else 1.0))
        rng = random.Random(ctx.seed)
        gets = [("GET", f"/v1/itmos/{identifier(rng.choice(blocks))}", None) for _ in range(count)]
        posts = []
        for _ in range(count):
            block = rng.choice(blocks)
            body = {"identifier": identifier(block), "purpose": "NDC", "using_party_id": "JPN"}
            posts.append(("POST", "/v1/checks/authorization", body))
        endpoints = (("GET /v1/itmos/{id}", gets), ("POST /v1/checks/authorization", posts))
        results: list[Result] = []
        for label, requests in endpoints:
            # Capacity first (closed loop), then each open-loop run on a server of its
            # own: an overloaded server keeps working through the requests the deadline
            # abandoned, which would otherwise be charged to the next run.
            capacity = Result(NAME, f"{label} capacity (4 callers)", "req/s", ctx.size)
            cap99 = Result(NAME, f"{label} p99 at capacity", "ms", ctx.size)
            with serving("api", url, "/healthz") as base:
                asyncio.run(_closed(base, token, requests[:50], 4))  # warm up
                for _ in range(ctx.runs):
                    latencies, achieved = asyncio.run(
                        _closed(base, token, requests[: max(count // 5, 50)], 4)
                    )
                    capacity.values.append(achieved)
                    cap99.values.append(percentile(latencies, 0.99))
            p50 = Result(NAME, f"{label} p50 at {RATE:g} req/s", "ms", ctx.size)
            p99 = Result(NAME, f"{label} p99 at {RATE:g} req/s", "ms", ctx.size, goal=goal)
            rps = Result(NAME, f"{label} answered at {RATE:g} req/s", "req/s", ctx.size)
            errors = 0
            for _ in range(ctx.runs):
                with serving("api", url, "/healthz") as base:
                    asyncio.run(_closed(base, token, requests[:20], 2))  # warm up
                    latencies, failed, achieved = asyncio.run(_load(base, token, requests, RATE))
                p50.values.append(statistics.median(latencies))
                p99.values.append(percentile(latencies, 0.99))
                rps.values.append(achieved)
                errors += failed
            if errors:
                p99.note = f"{errors} requests failed or unanswered by the deadline"
            if ctx.size >= GOAL_SIZE:
                p99.met = (p99.median or 0) <= GOAL_P99_MS
            results += [capacity, cap99, p50, p99, rps]
        raw50 = Result(NAME, "raw SQL range lookup p50", "ms", ctx.size)
        raw99 = Result(NAME, "raw SQL range lookup p99", "ms", ctx.size)
        raw_rate = Result(NAME, "raw SQL range lookups", "lookups/s", ctx.size)
        for _ in range(ctx.runs):
            latencies, rate = _raw_loop(url, blocks)
            raw50.values.append(statistics.median(latencies))
            raw99.values.append(percentile(latencies, 0.99))
            raw_rate.values.append(rate)
        return [*results, raw50, raw99, raw_rate]
    finally:
        ctx.drop(url)
