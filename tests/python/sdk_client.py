"""Drives pipette-mcp with the official MCP Python SDK's `Client` (tests/it/python_sdk.rs runs it).

    python3 sdk_client.py <mode> <server>

<mode>: `auto` (the SDK probes `server/discover` and speaks 2026-07-28, stateless) or `legacy` (the 2025-11-25
initialize handshake and a session). <server>: a path to pipette-mcp (stdio; its environment is inherited) or an
http:// URL (streamable HTTP). Prints one JSON object per step on stdout; the Rust test checks them.
"""

import asyncio
import json
import os
import sys

from mcp import StdioServerParameters, types
from mcp.client.client import Client


def emit(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


async def main(mode: str, server: str) -> None:
    asked = []

    async def elicit(context, params):
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": True})

    target = (
        server
        if server.startswith("http")
        else StdioServerParameters(command=server, args=[], env=dict(os.environ))
    )
    async with Client(target, mode=mode, elicitation_callback=elicit) as client:
        emit("connected", protocol_version=client.protocol_version, server=client.server_info.name)
        tools = await client.list_tools()
        emit("tools", names=sorted(t.name for t in tools.tools))

        created = await client.call_tool("index_create", {"id": "sdk", "schema": {"builtin": "pubmed"}})
        emit("index_create", is_error=bool(created.is_error), text=created.content[0].text[:300])
        doc = {"pmid": "1", "title": "BRAF V600E in melanoma", "abstract": "Vemurafenib response."}
        added = await client.call_tool("index_add", {"id": "sdk", "documents": [doc]})
        emit("index_add", is_error=bool(added.is_error), text=added.content[0].text[:300])
        found = await client.call_tool("index_search", {"id": "sdk", "query": "melanoma"})
        emit("index_search", is_error=bool(found.is_error), text=found.content[0].text[:600])

        # A destructive tool asks the person: an input-required round (2026-07-28) or an elicitation request on
        # the session (2025-11-25); the SDK answers through the same callback either way.
        dropped = await client.call_tool("index_drop", {"id": "sdk"})
        emit("index_drop", is_error=bool(dropped.is_error), asked=asked, text=dropped.content[0].text[:300])
        after = await client.call_tool("index_search", {"id": "sdk", "query": "melanoma"})
        emit("after_drop", is_error=bool(after.is_error), text=after.content[0].text[:300])

        missing = await client.call_tool("index_search", {"id": "sdk"})
        emit("bad_arguments", is_error=bool(missing.is_error), text=missing.content[0].text[:300])


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
