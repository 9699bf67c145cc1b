"""ListRows (apps.core.serializers) refuses what it cannot read exactly from a row."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from apps.agents.models import Agent
from apps.core.serializers import ListRows
from apps.runs.models import Run


class AgentWithMethod(serializers.ModelSerializer):
    shout = serializers.SerializerMethodField()

    class Meta:
        model = Agent
        fields = ["slug", "shout"]

    def get_shout(self, agent: Agent) -> str:
        return agent.slug.upper()


class AgentWithRuns(serializers.ModelSerializer):
    runs = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Agent
        fields = ["slug", "runs"]


class RunWithWholeAgent(serializers.ModelSerializer):
    agent_name = serializers.CharField(source="agent", read_only=True)

    class Meta:
        model = Run
        fields = ["id", "agent_name"]


@pytest.mark.parametrize(
    ("serializer_class", "message"),
    [
        (AgentWithMethod, "cannot read 'shout' from a row"),
        (AgentWithRuns, "cannot read 'runs' from a row"),
        (RunWithWholeAgent, "plain columns and related ids: 'agent_name'"),
    ],
)
def test_a_field_it_cannot_read_from_a_row_is_refused_by_name(serializer_class, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        _ = ListRows(serializer_class).columns


def test_a_method_field_given_as_computed_reads_the_row():
    rows = ListRows(AgentWithMethod, computed={"shout": lambda row: row["slug"].upper()})

    assert rows.columns == {"slug": "slug"}
    assert rows.represent([{"slug": "echo"}]) == [{"slug": "echo", "shout": "ECHO"}]
