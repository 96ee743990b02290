"""CPU per Bot API request: python-telegram-bot's `HTTPXRequest` against the bot's
`AiohttpRequest` (bot.delivery.transport), in the same run.

    .venv/bin/python -m bench.transport [--requests 3000] [--rounds 3] [--in-flight 8]

A stand-in for the Bot API runs in its own process (aiohttp, answering every POST with a
sendMessage result), so the client's CPU time is the transport's alone. Each round sends
the same `sendMessage` (a chat id and a Chinese text, as PTB encodes them) through both
transports, alternating which goes first; the process's CPU time (user + system) and the
wall time are divided by the requests sent. The figure to read is the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import time
from collections.abc import Callable

from telegram.request import BaseRequest, HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.delivery.transport import AiohttpRequest

SERVER = """
import json, sys
from aiohttp import web
BODY = json.dumps({"ok": True, "result": {"message_id": 1, "date": 0,
                   "chat": {"id": 1, "type": "private"}, "text": "好"}}).encode()
async def answer(request):
    await request.read()
    return web.Response(body=BODY, content_type="application/json")
app = web.Application()
app.router.add_route("POST", "/{tail:.*}", answer)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait_for(port: int) -> None:
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise RuntimeError("the stand-in did not start")


async def _measure(request: BaseRequest, url: str, requests: int, in_flight: int
                   ) -> tuple[float, float]:
    data = RequestData([RequestParameter("chat_id", 1, None),
                        RequestParameter("text", "请于本周五前上传功能室照片 ✅", None)])
    await request.initialize()
    try:
        await request.post(url, data)  # the connection, opened
        cpu, wall = time.process_time(), time.perf_counter()

        async def one() -> None:
            await request.post(url, data)

        for _ in range(requests // in_flight):
            await asyncio.gather(*(one() for _ in range(in_flight)))
        sent = requests // in_flight * in_flight
        return ((time.process_time() - cpu) / sent * 1000,
                (time.perf_counter() - wall) / sent * 1000)
    finally:
        await request.shutdown()


async def _run(requests: int, rounds: int, in_flight: int) -> None:
    port = _free_port()
    server = await asyncio.create_subprocess_exec(sys.executable, "-c", SERVER, str(port))
    try:
        await _wait_for(port)
        url = f"http://127.0.0.1:{port}/bot123:token/sendMessage"
        makers: dict[str, Callable[[], BaseRequest]] = {
            "httpx (PTB's HTTPXRequest)": lambda: HTTPXRequest(connection_pool_size=in_flight),
            "aiohttp (AiohttpRequest)": lambda: AiohttpRequest(connection_pool_size=in_flight),
        }
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in makers}
        for i in range(rounds):
            order = list(makers) if i % 2 == 0 else list(reversed(makers))
            for name in order:
                results[name].append(await _measure(makers[name](), url, requests, in_flight))
        print(f"{requests} sendMessage requests a round, {in_flight} in flight, {rounds} rounds "
              "(medians)")
        medians = {}
        for name, samples in results.items():
            cpu = statistics.median(s[0] for s in samples)
            wall = statistics.median(s[1] for s in samples)
            medians[name] = cpu
            print(f"  {name:<28} CPU {cpu:6.3f} ms/request   wall {wall:6.3f} ms/request")
        httpx_cpu, aiohttp_cpu = medians.values()
        print(f"  aiohttp / httpx CPU: {aiohttp_cpu / httpx_cpu:.2f}")
    finally:
        server.terminate()
        await server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--in-flight", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(_run(args.requests, args.rounds, args.in_flight))


if __name__ == "__main__":
    main()
