"""Reads streamed chat completions with aiohttp, as vLLM's benchmark client does,
and prints the process's CPU per 1,000 tokens (scripts/bench-stream.sh)."""
import asyncio
import json
import resource
import sys
import time

import aiohttp


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def main(url, streams):
    tokens = 0
    body = {"messages": [{"role": "user", "content": "hi"}], "stream": True}
    async with aiohttp.ClientSession() as s:
        c0, t0 = cpu(), time.monotonic()
        for _ in range(streams):
            async with s.post(url, json=body) as resp:
                async for raw in resp.content:  # one line at a time, as vLLM's client
                    line = raw.strip()
                    if not line.startswith(b"data: "):
                        continue
                    data = line[6:]
                    if data == b"[DONE]":
                        break
                    chunk = json.loads(data)
                    for c in chunk.get("choices", []):
                        if c.get("delta", {}).get("content"):
                            tokens += 1
                            time.perf_counter()  # vLLM times every token
        c, w = cpu() - c0, time.monotonic() - t0
    print(f"aiohttp\t{tokens} tokens\t{c * 1e6 * 1000 / tokens:.1f} µs CPU per 1000 tokens\t{tokens / w:.0f} tokens/s")


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
