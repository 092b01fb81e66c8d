"""The API figure's open-loop generator starts each request when it is due.

Scheduling every request up front made the generator itself late for its first
requests, and that lateness was the whole p99 the figure reported. Not a timed test:
it counts what exists when the server sees the first request, and checks that every
request is answered and accounted for.
"""

from __future__ import annotations

import asyncio

from bench.figures.api import open_loop

REQUESTS = 100
RATE = 200.0  # half a second of schedule
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"


def test_requests_are_started_when_due_and_all_answered() -> None:
    tasks_at_arrival: list[int] = []
    paths: list[bytes] = []
    handlers: list[asyncio.Task[object]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                tasks_at_arrival.append(len(asyncio.all_tasks()))
                paths.append(head.split(b" ", 2)[1])
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def run() -> tuple[list[float], object, float, list[float]]:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        requests = [("GET", f"/v1/itmos/{n}", None) for n in range(REQUESTS)]
        async with server:
            answer = await open_loop(f"http://127.0.0.1:{port}", "token", requests, RATE)
            # The generator closed its connections: each handler ends on end of file.
            await asyncio.wait_for(asyncio.gather(*handlers), timeout=30)
        return answer

    latencies, errors, _, sent_late = asyncio.run(run())

    assert not errors
    assert len(latencies) == len(sent_late) == REQUESTS
    assert sorted(paths) == sorted(f"/v1/itmos/{n}".encode() for n in range(REQUESTS))
    # Up front, all 100 requests' tasks existed before the first was sent; started when
    # due, the first request finds only the server's and the generator's own few.
    assert tasks_at_arrival[0] < REQUESTS // 2, tasks_at_arrival[:5]
    assert all(late >= 0 for late in sent_late)
