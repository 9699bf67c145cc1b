"""``manage.py serve`` exposes the same MCP server at /mcp/ of the project's ASGI app (daphne).

daphne sends no lifespan events: the endpoint starts its session manager on the first
request. The runs go to serve's embedded Celery worker (CONDUCTOR_MCP_RUN_INLINE=false).
The server has its own data directory, so it runs the embedded default (SQLite, in-memory
channel layer and broker) whatever the suite's DATABASE_URL and REDIS_URL say.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.fakes import llm_server as llm
from tests.mcp.scenarios import structured
from tests.mcp.servers import DEFAULT_CWD, MCP_HEADERS, http_session, initialize_request
from tests.subprocesses import child_env, fake_llm_env, serving

pytestmark = pytest.mark.slow


@pytest.fixture
def conductor(tmp_path, fake_llm):
    env = child_env(
        tmp_path / "data",
        **fake_llm_env(fake_llm.base_url),
        CONDUCTOR_MCP_DEFAULT_CWD=DEFAULT_CWD,
        CONDUCTOR_MCP_RUN_INLINE="false",
    )
    with serving(env, "--concurrency", "1", "--no-beat") as served:
        yield served


def demo_token(output: str) -> str:
    match = re.search(r"Token:\s+(\S+)", output)
    assert match, output
    return match.group(1)


async def test_serve_answers_mcp_at_slash_mcp_and_runs_on_its_worker(conductor, fake_llm):
    async with httpx.AsyncClient(base_url=conductor.base) as client:
        health = (await client.get("/health")).json()
        anonymous = await client.post("/mcp/", json=initialize_request(), headers=MCP_HEADERS)
    fake_llm.script(reply := llm.text("Hello from the worker."))

    async with http_session(f"{conductor.base}/mcp/", demo_token(conductor.output)) as session:
        tools = (await session.list_tools()).tools
        outcome = structured(
            await session.call_tool(
                "execute_agent_stateless", {"agent_id": "assistant", "input_text": "Say hello"}
            )
        )

    assert health["endpoints"]["mcp"] == "/mcp/"
    assert anonymous.status_code == 401
    assert len(tools) == 13
    assert (outcome["status"], outcome["result"]) == ("succeeded", reply.content)
