from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.agents.models import MODEL_STRING_RE, Agent
from apps.conversations.selectors import conversations_visible_to
from apps.core.serializers import ListRows, SlugLookupField, StrictCharField
from apps.instances.models import AgentInstance
from apps.instances.selectors import instances_runnable_by
from apps.runs.approvals import DECISIONS
from apps.runs.models import Approval, ContextMode, Run, RunStep
from apps.runs.services import INPUT_MAX_CHARS, RunRequest
from apps.runtime.providers import DEMO_MODEL
from apps.screenplays.models import Screenplay

PAYLOAD_FORMATS = ("input", "command", "textEntries")


class TextEntrySerializer(serializers.Serializer):
    content = StrictCharField(trim_whitespace=False, allow_blank=True)
    type = serializers.CharField(default="text", max_length=32)


class RunCreateSerializer(serializers.Serializer):
    """The three payload formats of the seed gateway, plus the run options."""

    input = StrictCharField(required=False, max_length=INPUT_MAX_CHARS, trim_whitespace=False)
    command = StrictCharField(required=False, max_length=INPUT_MAX_CHARS, trim_whitespace=False)
    textEntries = TextEntrySerializer(many=True, required=False)
    metadata = serializers.DictField(required=False)
    instance_id = serializers.PrimaryKeyRelatedField(
        queryset=AgentInstance.objects.all(), required=False, allow_null=True
    )
    conversation_id = serializers.PrimaryKeyRelatedField(
        queryset=conversations_visible_to(None), required=False, allow_null=True
    )
    screenplay_id = serializers.PrimaryKeyRelatedField(
        queryset=Screenplay.objects.all(), required=False, allow_null=True
    )
    cwd = StrictCharField(required=False, allow_blank=True, max_length=500)
    context_mode = serializers.ChoiceField(
        choices=ContextMode.choices, default=ContextMode.STATELESS
    )
    model = serializers.RegexField(MODEL_STRING_RE, required=False, max_length=200)
    max_steps = serializers.IntegerField(required=False, min_value=1, max_value=100)
    timeout_seconds = serializers.IntegerField(required=False, min_value=1, max_value=3600)
    max_cost_usd = serializers.DecimalField(
        required=False, max_digits=12, decimal_places=6, min_value=0
    )
    max_tokens = serializers.IntegerField(required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = request.user if request is not None else None
        self.fields["conversation_id"].queryset = conversations_visible_to(user)  # type: ignore[attr-defined]
        self.fields["instance_id"].queryset = instances_runnable_by(user)  # type: ignore[attr-defined]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in PAYLOAD_FORMATS if name in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"input": "Send exactly one of input, command or textEntries."}
            )
        attrs["text"] = _text(attrs, given[0])
        if not attrs["text"].strip():
            raise serializers.ValidationError({given[0]: "The input is empty."})
        return attrs

    def run_request(self, agent: Agent) -> RunRequest:
        data = self.validated_data
        return RunRequest(
            agent=agent,
            input=data["text"],
            instance=data.get("instance_id"),
            conversation=data.get("conversation_id"),
            screenplay=data.get("screenplay_id"),
            cwd=data.get("cwd", ""),
            context_mode=data["context_mode"],
            model=data.get("model", ""),
            max_steps=data.get("max_steps"),
            timeout_seconds=data.get("timeout_seconds"),
            max_cost_usd=data.get("max_cost_usd"),
            max_tokens=data.get("max_tokens"),
        )


def _text(attrs: dict[str, Any], payload_format: str) -> str:
    if payload_format == "textEntries":
        entries = attrs["textEntries"]
        return "\n\n".join(entry["content"] for entry in entries if entry["type"] == "text")
    return str(attrs[payload_format])


class AgentRunCreateSerializer(RunCreateSerializer):
    """``POST /api/runs/``: the agent is named in the body (``agent`` or ``agent_id``)."""

    agent = SlugLookupField(slug_field="slug", queryset=Agent.objects.all(), required=False)
    agent_id = SlugLookupField(slug_field="slug", queryset=Agent.objects.all(), required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        agent = attrs.get("agent") or attrs.get("agent_id")
        if agent is None:
            raise serializers.ValidationError({"agent": "Name the agent to run (its slug)."})
        attrs["resolved_agent"] = agent
        return super().validate(attrs)


class RunStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = RunStep
        fields = [
            "index", "kind", "payload", "prompt_tokens", "completion_tokens", "cost_usd",
            "latency_ms", "created_at",
        ]  # fmt: skip


class RunSerializer(serializers.ModelSerializer):
    agent = serializers.CharField(source="agent.slug", read_only=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True
    )
    events_url = serializers.SerializerMethodField()
    offline_demo = serializers.SerializerMethodField(
        help_text="True when the run used the offline demo model, not a real LLM."
    )

    class Meta:
        model = Run
        fields = [
            "id", "agent", "instance", "conversation", "screenplay", "input", "context_mode",
            "cwd", "model", "max_steps", "timeout_seconds", "max_cost_usd", "max_tokens",
            "status", "result", "error", "severity", "prompt_tokens", "completion_tokens",
            "total_tokens", "cost_usd", "created_at", "started_at", "finished_at", "duration_ms",
            "heartbeat_at", "source", "created_by", "events_url", "offline_demo",
        ]  # fmt: skip
        read_only_fields = fields

    def get_offline_demo(self, run: Run) -> bool:
        return used_offline_demo(run.model)

    def get_events_url(self, run: Run) -> str:
        return run_events_url(run.pk)


def used_offline_demo(model: str) -> bool:
    return model == DEMO_MODEL


def run_events_url(run_id: object) -> str:
    return f"/api/runs/{run_id}/events/"


# GET /api/runs/: RunSerializer's output without its per-value cost. Held equal to it by
# tests/runs/test_run_list_representation.py.
RUN_LIST_ROWS = ListRows(
    RunSerializer,
    computed={
        "events_url": lambda row: run_events_url(row["id"]),
        "offline_demo": lambda row: used_offline_demo(row["model"]),
    },
)


class ApprovalSerializer(serializers.ModelSerializer):
    resolved_by = serializers.CharField(
        source="resolved_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = Approval
        fields = [
            "id", "tool", "arguments", "status", "requested_at", "expires_at", "resolved_at",
            "resolved_by", "reason",
        ]  # fmt: skip
        read_only_fields = fields


class ApprovalDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=sorted(DECISIONS))
    reason = StrictCharField(required=False, allow_blank=True, max_length=2000, default="")


class RunDetailSerializer(RunSerializer):
    steps = RunStepSerializer(many=True, read_only=True)
    approvals = ApprovalSerializer(many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "steps", "approvals"]
        read_only_fields = fields
