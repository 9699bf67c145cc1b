"""What every transport must do, written once and played over stdio and streamable HTTP."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from mcp.client.session import ClientSession
from mcp_types import CallToolResult

from tests.fakes import llm_server as llm
from tests.fakes.llm_server import FakeLLMServer

# Each tool: (its arguments, the required ones).
TOOLS: dict[str, tuple[set[str], set[str]]] = {
    "list_available_agents": ({"include_inactive"}, set()),
    "get_agent_info": ({"agent_id"}, {"agent_id"}),
    "validate_conductor_system": (set(), set()),
    "execute_agent_stateless": (
        {"agent_id", "input_text", "cwd", "timeout"},
        {"agent_id", "input_text"},
    ),
    "execute_agent_contextual": (
        {"agent_id", "input_text", "conversation_id", "clear_history", "timeout", "cwd"},
        {"agent_id", "input_text"},
    ),
    "start_interactive_session": (
        {"agent_id", "initial_input", "timeout", "cwd"},
        {"agent_id", "initial_input"},
    ),
    "install_agent_templates": ({"template_name"}, {"template_name"}),
    "backup_agents": ({"path"}, set()),
    "restore_agents": ({"path"}, {"path"}),
    "migrate_storage": ({"from_alias", "to_alias"}, {"from_alias", "to_alias"}),
    "set_environment": ({"environment", "project"}, {"environment"}),
    "get_system_config": (set(), set()),
    "clear_agent_history": ({"agent_id"}, {"agent_id"}),
}


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict), result
    return result.structured_content


def tool_error(result: CallToolResult) -> str:
    """The text of a tool error, which must read as a message, not a traceback."""
    assert result.is_error, result
    text = result.content[0].text  # type: ignore[union-attr]
    assert "Traceback" not in text, text
    assert 'File "' not in text, text
    return text


async def lists_the_13_tools_with_their_schemas(session: ClientSession) -> None:
    tools = {tool.name: tool for tool in (await session.list_tools()).tools}

    assert set(tools) == set(TOOLS)
    for name, (arguments, required) in TOOLS.items():
        schema = tools[name].input_schema
        assert schema["type"] == "object", name
        assert set(schema.get("properties", {})) == arguments, name
        assert set(schema.get("required", [])) == required, name
        assert len(tools[name].description or "") > 40, name
        assert tools[name].output_schema is not None, name
    agent_id = tools["get_agent_info"].input_schema["properties"]["agent_id"]
    assert agent_id["type"] == "string"
    assert "slug" in agent_id["description"]


async def reads_agents_and_the_system(session: ClientSession, team: SimpleNamespace) -> None:
    agents = structured(await session.call_tool("list_available_agents", {}))
    assert [agent["agent_id"] for agent in agents["agents"]] == ["helper"]

    info = structured(await session.call_tool("get_agent_info", {"agent_id": "helper"}))
    assert info["persona"] == {
        "id": team.persona.pk,
        "name": "Helper voice",
        "uri": f"persona://{team.persona.pk}",
    }
    assert info["model"] == "gpt-4o-mini"
    assert info["mcp_servers"] == ["files"]
    assert "s3cret" not in json.dumps(info)
    assert info["is_active"] is True

    report = structured(await session.call_tool("validate_conductor_system", {}))
    assert set(report["checks"]) == {"database", "channel_layer", "broker", "workers", "providers"}
    assert report["checks"]["database"]["ok"] is True
    assert report["checks"]["providers"] == {
        "ok": True,
        "required": False,
        "detail": "configured: openai",
        "latency_ms": 0.0,
    }

    missing = await session.call_tool("get_agent_info", {"agent_id": "no_such_agent"})
    assert "No agent with id 'no_such_agent'" in tool_error(missing)


async def runs_agents(session: ClientSession, fake: FakeLLMServer) -> dict[str, Any]:
    """Stateless, then a session and its next turn, then forgetting the agent's history."""
    progress: list[tuple[float, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, message))

    fake.script(llm.text("Forty-two."))
    once = structured(
        await session.call_tool(
            "execute_agent_stateless",
            {"agent_id": "helper", "input_text": "What is six times seven?"},
            progress_callback=on_progress,
        )
    )
    assert (once["status"], once["result"], once["error"]) == ("succeeded", "Forty-two.", "")
    assert once["finished"] is True
    assert once["conversation_id"] is None
    messages = [message for _, message in progress]
    assert messages[0] == "run.queued gpt-4o-mini"
    assert messages[-1] == "run.succeeded: succeeded"
    assert [value for value, _ in progress] == sorted(value for value, _ in progress)

    fake.script(llm.text("Noted: teal."), llm.text("You said teal."))
    first = structured(
        await session.call_tool(
            "start_interactive_session",
            {"agent_id": "helper", "initial_input": "Remember the word teal."},
        )
    )
    conversation = first["conversation_id"]
    assert first["result"] == "Noted: teal."
    assert conversation is not None
    second = structured(
        await session.call_tool(
            "execute_agent_contextual",
            {"agent_id": "helper", "input_text": "Which word?", "conversation_id": conversation},
        )
    )
    assert (second["result"], second["conversation_id"]) == ("You said teal.", conversation)
    seen = [(m["role"], m["content"]) for m in fake.requests[-1]["messages"][1:]]
    assert seen == [
        ("user", "Remember the word teal."),
        ("assistant", "Noted: teal."),
        ("user", "Which word?"),
    ]

    cleared = structured(await session.call_tool("clear_agent_history", {"agent_id": "helper"}))
    assert cleared == {"agent_id": "helper", "messages_cleared": 4}
    return {"stateless": once, "conversation_id": conversation}


async def manages_templates_backups_and_config(session: ClientSession) -> str:
    """Template install, backup, restore, a refused storage migration, environment, config."""
    installed = structured(
        await session.call_tool("install_agent_templates", {"template_name": "research"})
    )
    assert installed["template"] == "research"
    assert installed["created"]["agents"] >= 1
    unknown = await session.call_tool("install_agent_templates", {"template_name": "nope"})
    assert "There is no template set 'nope'. Available: code-review, research" in tool_error(
        unknown
    )

    backup = structured(await session.call_tool("backup_agents", {"path": "mcp.json"}))
    assert backup["path"].endswith("/backups/mcp.json")
    assert backup["persona_versions"] >= 3
    restored = structured(await session.call_tool("restore_agents", {"path": backup["path"]}))
    assert restored["created"] == {"agents": 0, "personas": 0, "screenplays": 0}
    assert restored["skipped"]["agents"] == backup["agents"]

    same = await session.call_tool("migrate_storage", {"from_alias": "default", "to_alias": "x"})
    assert "There is no database alias 'x'" in tool_error(same)

    environment = structured(
        await session.call_tool("set_environment", {"environment": "staging", "project": "Apollo"})
    )
    assert (environment["environment"], environment["project"]) == ("staging", "Apollo")
    config = structured(await session.call_tool("get_system_config", {}))
    assert (config["environment"], config["project"]) == ("staging", "Apollo")
    assert config["providers"] == ["openai"]
    assert "sk-fake-key" not in json.dumps(config)
    return str(backup["path"])


async def serves_resources_and_the_prompt(session: ClientSession, team: SimpleNamespace) -> None:
    templates = {
        t.uri_template for t in (await session.list_resource_templates()).resource_templates
    }
    assert templates == {"screenplay://{screenplay_id}", "persona://{persona_id}"}
    listed = {str(resource.uri) for resource in (await session.list_resources()).resources}
    assert {f"screenplay://{team.screenplay.pk}", f"persona://{team.persona.pk}"} <= listed

    persona = await session.read_resource(f"persona://{team.persona.pk}")
    assert persona.contents[0].text == "You help briefly and kindly."  # type: ignore[union-attr]
    guide = await session.read_resource(f"screenplay://{team.screenplay.pk}")
    assert guide.contents[0].text == "# Guide\n\nThe project's guide.\n"  # type: ignore[union-attr]
    assert guide.contents[0].mime_type == "text/markdown"

    prompt = await session.get_prompt(
        "agent_system_prompt",
        {"agent_id": "helper", "screenplay_id": str(team.screenplay.pk)},
    )
    text = prompt.messages[0].content.text  # type: ignore[union-attr]
    assert text.startswith("You help briefly and kindly.")
    assert "## Screenplay (project context)" in text
    assert "Working directory: /srv/guide" in text
