"""Warm mutation -> trials through the official Python MCP client (`pip install mcp`), on one recorded
ClinicalTrials.gov answer served from 127.0.0.1: pipette's `trials_match`, and BioMCP's
`search trial --mutation` when its binary is given. Run by `cargo xtask bench interface`.

usage: client.py <pipette-mcp> [<biomcp>]   (PIPETTE_FIXTURES_DIR: the recorded fixtures; N: calls, default 200)
"""
import asyncio
import http.server
import os
import re
import statistics
import sys
import tempfile
import threading
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

FIX = os.path.join(os.environ["PIPETTE_FIXTURES_DIR"], "clinicaltrials")
SEARCH = open(os.path.join(FIX, "search_nsclc_egfr_l858r_20260811.json"), "rb").read()
HITS = {"n": 0}


class Upstream(http.server.BaseHTTPRequestHandler):
    """The search answer for any search; a recorded study for `/studies/<NCT>` when there is one."""

    def do_GET(self):
        HITS["n"] += 1
        m = re.search(r"/studies/(NCT\d+)", self.path)
        if m:
            f = os.path.join(FIX, "get_%s_20260811.json" % m.group(1).lower())
            body = open(f, "rb").read() if os.path.exists(f) else b"{}"
        else:
            body = SEARCH
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


async def bench(cmd, args, env, tool, arguments, n):
    params = StdioServerParameters(command=cmd, args=args, env={**os.environ, **env})
    async with stdio_client(params) as (r, w):
        async with ClientSession(r, w) as s:
            await s.initialize()
            await s.list_tools()
            res = await s.call_tool(tool, arguments)
            text = "".join(c.text for c in res.content if hasattr(c, "text"))
            for _ in range(10):
                await s.call_tool(tool, arguments)
            before = HITS["n"]
            lat = []
            for _ in range(n):
                t = time.perf_counter()
                await s.call_tool(tool, arguments)
                lat.append((time.perf_counter() - t) * 1e3)
            lat.sort()
            per_call = (HITS["n"] - before) / n
            return statistics.median(lat), lat[max(0, int(len(lat) * 0.99) - 1)], len(text), per_call


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d/api/v2" % srv.server_port
    n = int(os.environ.get("N", "200"))
    rows = []
    with tempfile.TemporaryDirectory() as d:
        env = {"PIPETTE_CTGOV_BASE": base, "PIPETTE_DATA_DIR": d, "PIPETTE_LOG": "error"}
        rows.append(("pipette trials_match", asyncio.run(
            bench(sys.argv[1], [], env, "trials_match", {"mutation": "EGFR L858R"}, n))))
    if len(sys.argv) > 2:
        with tempfile.TemporaryDirectory() as d:
            env = {"BIOMCP_CTGOV_BASE": base, "BIOMCP_CACHE_DIR": d, "RUST_LOG": "error"}
            cmd = {"command": 'search trial --mutation "EGFR L858R"'}
            rows.append(("BioMCP search trial --mutation", asyncio.run(
                bench(sys.argv[2], ["mcp"], env, "biomcp", cmd, n))))
    print("\n| warm mutation -> trials, Python client (%d calls) | p50 ms | p99 ms | text bytes | upstream requests per call |" % n)
    print("|---|---|---|---|---|")
    for name, (p50, p99, text, per_call) in rows:
        print("| %s | %.2f | %.2f | %d | %.1f |" % (name, p50, p99, text, per_call))


main()
