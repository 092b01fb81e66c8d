"""The API: `GET /v1/itmos/{id}` capacity against raw SQL range lookups on one
connection, `POST /v1/checks/authorization` capacity against the GET's, and the p99
latency of each at half its capacity, open loop.

The API runs in its own process (uvicorn, one worker, the target's `create_app`) on the
run's loaded index (after the checks: its alerts are there, as in service). The load
generator is this bench process. Capacity is closed loop (4 callers, each sending its
next request when the last is answered). The open-loop run sends requests on a fixed
schedule at half the capacity just measured, whatever the answers do, and measures
each latency from the moment the request was *due*, so a server that falls behind is
charged for the queue it builds (no coordinated omission); each open-loop run has a
server of its own, since an overloaded server keeps working through requests the
deadline abandoned.

The GET's baseline is what the issue calls "raw SQL range lookups, one connection" (the
bench's figure of that name before issue 18): the index's own range query, the one the
endpoint starts from, closed loop in a child, without HTTP, keys, alerts or JSON. Its
own floor is a row too: the same lookups in plain SQL on the driver connection
(`bench.jobs.raw_lookups`), so the report shows both where the API's time goes and
how far the query layer is from the driver.

What the machine allows: the generator shares the machine's cores with the server, so
each capacity row also measures the CPU the generator spent per request (this process)
and the CPU every process spent per request (`/proc/stat`), and the GET row's note says
the most the cores could answer if the server spent on a request no more than the
range query itself costs on one connection (1 / its lookups/s): cores / (generator +
query) requests/s, and so the highest GET / range query ratio this machine can show
with this generator. Where that bound is under the goal, no server could meet it here.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter
from typing import Any

from bench.figures.checks import checked
from bench.harness import (
    Context,
    Point,
    Row,
    Target,
    busy_since,
    cpu_count,
    job,
    load_average,
    machine_cpu,
    point,
)
from bench.loadgen import Connection, ProtocolError, drive, encode, host_of
from bench.serve import serving
from bench.world import loaded

NAME = "api"
NEEDS = "api"
GET = "GET /v1/itmos/{id} capacity (4 callers), req/s"
POST = "POST /v1/checks/authorization capacity (4 callers), req/s"
GET_P99 = "GET /v1/itmos/{id} p99 at half its capacity, ms"
POST_P99 = "POST /v1/checks/authorization p99 at half its capacity, ms"
QUERY = "the index's range query on one connection, lookups/s"
METRICS = (GET, POST, GET_P99, POST_P99, QUERY)
INDEX_QUERY = "the index's range query (metareg.index.query) on one connection"
SAMPLE = 2_000
CALLERS = 4
OPEN_LOOP_CONNECTIONS = 16


def not_run(ctx: Context) -> str | None:
    return None


def identifier(block: dict[str, Any]) -> str:
    return (
        f"{block['cooperative_approach_id']}-{block['party_registry_id']}-"
        f"{block['first_transferring_party_id']}-{block['first_id']}-{block['last_id']}-"
        f"{block['vintage']}"
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


Request = tuple[str, str, Any]


def _failed(status: int) -> bool:
    return status >= 400 and status != 404  # an unknown ITMO is a fine answer


async def open_loop(
    base: str, token: str, requests: list[Request], rate: float
) -> tuple[list[float], Counter[str], float, list[float]]:
    """(latencies in ms, failures by HTTP status, achieved requests/s, how late the
    generator sent each request in ms) of an open-loop run. A request still unanswered
    at the deadline (twice the schedule plus 5 s) is a failure ("timeout") with its
    latency so far, so an overloaded server ends the run. Waiting for a free connection
    counts in the latency: it is queueing too.

    One dispatcher starts each request when it is due, as wrk2 does. Scheduling every
    request up front (a task each, sleeping until its time) made the generator itself
    late: at 1,100 req/s its 11,000 tasks took the first ~150 ms to start, the requests
    due meanwhile went out that late, and they were the whole p99 (measured on 100k
    blocks: the slowest 1% were all among the first 180 requests, and the p99 without
    the first half second was 2.2 ms against 34-83 ms with it). The lateness is still
    charged to the latency (it is measured from the due time), and reported apart, so
    a reader sees when the generator, not the server, fell behind."""
    latencies: list[float] = []
    sent_late: list[float] = []
    errors: Counter[str] = Counter()
    answered = 0
    host = host_of(base)
    encoded = [encode(method, path, body, host, token) for method, path, body in requests]
    # 16 connections, as a load generator like wrk2 would hold: enough for the rate at
    # the goal's latency, without making the server juggle hundreds at once.
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(OPEN_LOOP_CONNECTIONS):
        pool.put_nowait(await Connection.open(base))
    start = time.perf_counter()
    deadline = start + 2 * len(requests) / rate + 5

    async def one(due: float, data: bytes) -> None:
        nonlocal answered
        try:
            async with asyncio.timeout_at(_loop_time(deadline)):
                connection = await pool.get()
                try:
                    status = await connection.call(data)
                except BaseException:
                    connection.close()  # mid-answer: never reused
                    if time.perf_counter() < deadline:
                        pool.put_nowait(await Connection.open(base))
                    raise
                pool.put_nowait(connection)
            if _failed(status):
                errors[str(status)] += 1
            else:
                answered += 1
        except (OSError, ProtocolError, asyncio.IncompleteReadError, TimeoutError) as error:
            errors[type(error).__name__] += 1
        latencies.append((time.perf_counter() - due) * 1000)

    started: list[asyncio.Task[None]] = []
    for n, data in enumerate(encoded):
        due = start + n / rate
        delay = due - time.perf_counter()
        await asyncio.sleep(max(0.0, delay))  # overdue: still let started requests run
        sent_late.append(max(0.0, time.perf_counter() - due) * 1000)
        started.append(asyncio.create_task(one(due, data)))
    await asyncio.gather(*started)
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait().close()
    return latencies, errors, answered / elapsed, sent_late


def _loop_time(perf_deadline: float) -> float:
    """A `time.perf_counter` instant on the running loop's clock."""
    return asyncio.get_running_loop().time() + (perf_deadline - time.perf_counter())


async def closed_loop(
    base: str, token: str, requests: list[Request], callers: int
) -> tuple[list[float], Counter[str], float]:
    """Capacity: (latencies in ms, failures by HTTP status, requests/s answered)."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    host = host_of(base)
    queue = [encode(method, path, body, host, token) for method, path, body in requests]
    queue.reverse()
    connections = [await Connection.open(base) for _ in range(callers)]

    async def caller(index: int) -> None:
        while queue:
            data = queue.pop()
            t0 = time.perf_counter()
            try:
                status = await asyncio.wait_for(connections[index].call(data), timeout=60)
            except (OSError, ProtocolError, asyncio.IncompleteReadError, TimeoutError) as error:
                # A failure the report shows (as the open loop does), not a lost run: the
                # connection is never reused mid-answer; the caller goes on on a new one.
                errors[type(error).__name__] += 1
                connections[index].close()
                connections[index] = await Connection.open(base)
                continue
            if _failed(status):
                errors[str(status)] += 1
            latencies.append((time.perf_counter() - t0) * 1000)

    start = time.perf_counter()
    try:
        await asyncio.gather(*(caller(i) for i in range(len(connections))))
    finally:
        for connection in connections:
            connection.close()
    elapsed = time.perf_counter() - start
    return latencies, errors, len(latencies) / elapsed


def _requests(blocks: list[dict[str, Any]], count: int, seed: int) -> dict[str, list[Request]]:
    rng = random.Random(seed)
    gets: list[Request] = [
        ("GET", f"/v1/itmos/{identifier(rng.choice(blocks))}", None) for _ in range(count)
    ]
    posts: list[Request] = []
    for _ in range(count):
        body = {"identifier": identifier(rng.choice(blocks)), "purpose": "NDC"}
        posts.append(("POST", "/v1/checks/authorization", {**body, "using_party_id": "JPN"}))
    return {"GET": gets, "POST": posts}


def _timed(action: Any) -> tuple[Any, tuple[float, float]]:
    before = load_average()
    value = action()
    return value, (before, load_average())


def measure(ctx: Context, target: Target, run: int) -> dict[str, Point]:
    # The index after the checks, its alerts there (each GET and check reads those on its
    # units): the checks figure's own run when this run measures it too, else made here.
    # Without it `--only api` measured an index with no alert at all.
    checked(ctx, target, ctx.size, run)
    url = loaded(ctx, target, ctx.size, run)
    alerts = len(job(target, "open_alerts", url=url)["fingerprints"])
    prepared = job(target, "api_prepare", url=url, sample=SAMPLE, seed=ctx.seed)
    token, blocks = prepared["token"], prepared["blocks"]
    floors = job(target, "raw_lookups", url=url, blocks=blocks)
    capacity_requests = 200 if ctx.short else 2_000
    open_seconds = 2.0 if ctx.short else 10.0
    requests = _requests(blocks, capacity_requests, ctx.seed + run)
    measured = {}
    for floor in ("index", "driver"):
        latencies = floors[floor]["latencies_ms"]
        measured[floor] = point(floors, floors[floor]["rate"], p50_ms=statistics.median(latencies))
        measured[f"{floor}_p99"] = point(floors, percentile(latencies, 0.99))
    with serving(target, "api", url, "/healthz") as base:
        for method in ("GET", "POST"):
            drive(closed_loop(base, token, requests[method][:50], CALLERS))  # warm up
            machine, generator, started = machine_cpu(), time.process_time(), time.perf_counter()
            (latencies, errors, rate), load = _timed(
                lambda m=method: drive(closed_loop(base, token, requests[m], CALLERS))
            )
            count = len(requests[method])
            busy = busy_since(machine, time.perf_counter() - started)
            measured[method] = Point(
                rate,
                load,
                {
                    "p99_ms": percentile(latencies, 0.99),
                    "open_alerts": alerts,  # in the index served
                    "errors": errors,
                    "generator_cpu_ms": (time.process_time() - generator) * 1000 / count,
                    "machine_cpu_ms": busy["busy_cpu_seconds"] * 1000 / count if busy else None,
                },
            )
    for method in ("GET", "POST"):
        rate = measured[method].value / 2
        schedule = _requests(blocks, max(int(rate * open_seconds), 20), ctx.seed + run + 1)
        with serving(target, "api", url, "/healthz") as base:
            drive(closed_loop(base, token, schedule[method][:20], 2))  # warm up
            (latencies, errors, achieved, sent_late), load = _timed(
                lambda m=method, r=rate, s=schedule, b=base: drive(open_loop(b, token, s[m], r))
            )
        measured[f"{method}_p99"] = Point(
            percentile(latencies, 0.99),
            load,
            {
                "rate": rate,
                "answered_per_s": achieved,
                "p50_ms": statistics.median(latencies),
                "sent_late_p99_ms": percentile(sent_late, 0.99),
                "errors": errors,
            },
        )
    return measured


def machine_bound(runs: list[dict[str, Any]]) -> str:
    """The GET row's note on what this machine allows (medians of the runs): the CPU
    per request of the generator and of every process, and the highest GET capacity
    and ratio the cores allow if the server cost no more than the range query."""
    measured = [run for run in runs if "generator_cpu_ms" in run["GET"].extra]
    if not measured:
        return ""
    generator = statistics.median(run["GET"].extra["generator_cpu_ms"] for run in measured)
    query = statistics.median(1000 / run["index"].value for run in measured)
    rate = statistics.median(run["index"].value for run in measured)
    cores = cpu_count()
    bound = cores / (generator + query) * 1000
    machine = [run["GET"].extra["machine_cpu_ms"] for run in measured]
    spent = (
        f", every process {statistics.median(machine):.2f} ms (the server's part about "
        f"{statistics.median(machine) - generator:.2f})"
        if None not in machine
        else ""
    )
    return (
        f"CPU per GET: the generator {generator:.2f} ms{spent}; the range query alone "
        f"{query:.3f} ms, so these {cores} cores allow at most {bound:,.0f} req/s even if "
        f"the server did nothing but the query: a ratio of at most {bound / rate:.2f}"
    )


def rows(ctx: Context, target: Target, runs: list[dict[str, Any]]) -> list[Row]:
    label, size = target.label, ctx.size
    index_p99 = f"{INDEX_QUERY}, p99"
    get = Row(NAME, GET, "req/s", INDEX_QUERY, "lookups/s", "GET / range query", label, size)
    post = Row(NAME, POST, "req/s", "GET capacity", "req/s", "POST / GET", label, size)
    get_p99 = Row(NAME, GET_P99, "ms", index_p99, "ms", "GET p99 / query p99", label, size)
    post_p99 = Row(NAME, POST_P99, "ms", index_p99, "ms", "POST p99 / query p99", label, size)
    query = Row(
        NAME,
        QUERY,
        "lookups/s",
        "the same lookups in plain SQL on the driver connection",
        "lookups/s",
        "range query / plain SQL",
        label,
        size,
    )
    for run in runs:
        get.add(run["GET"], run["index"])
        post.add(run["POST"], run["GET"])
        get_p99.add(run["GET_p99"], run["index_p99"])
        post_p99.add(run["POST_p99"], run["index_p99"])
        query.add(run["index"], run["driver"])
    for row, key in ((get, "GET"), (post, "POST"), (get_p99, "GET_p99"), (post_p99, "POST_p99")):
        notes = []
        if key.endswith("_p99"):  # the open-loop rows
            late = statistics.median(run[key].extra["sent_late_p99_ms"] for run in runs)
            notes.append(
                f"the generator sent 99% of its requests within {late:.2g} ms"
                " of their due time (median of runs)"
            )
        if key == "GET":
            notes.append(machine_bound(runs))
        failed: Counter[str] = Counter()
        for run in runs:
            failed.update(run[key].extra["errors"])
        if failed:
            notes.append(
                "FAILED REQUESTS (by status): "
                + ", ".join(f"{status}: {count}" for status, count in sorted(failed.items()))
            )
        row.note = "; ".join(notes)
    return [get, post, get_p99, post_p99, query]
