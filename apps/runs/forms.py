from __future__ import annotations

from django import forms

from apps.agents.models import Agent
from apps.runs.models import ContextMode
from apps.runs.services import RunRequest
from apps.screenplays.models import Screenplay


class ScreenplayChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Screenplay) -> str:  # type: ignore[override]
        directory = obj.working_directory
        return f"{obj.name} ({directory})" if directory else obj.name


class AdminRunForm(forms.Form):
    """What the admin's "Run now" asks for; the service still validates the whole request."""

    input = forms.CharField(widget=forms.Textarea(attrs={"rows": 8, "cols": 80}))
    cwd = forms.CharField(
        label="Working directory",
        required=False,
        max_length=500,
        help_text="An absolute path. Leave empty to use the screenplay's working directory.",
    )
    screenplay = ScreenplayChoiceField(
        queryset=Screenplay.objects.order_by("name"),
        required=False,
        help_text="Given to the agent as context.",
    )
    context_mode = forms.ChoiceField(
        choices=ContextMode.choices,
        initial=ContextMode.STATELESS,
        help_text="A contextual run needs a conversation: from the admin, use stateless.",
    )

    def clean_cwd(self) -> str:
        cwd: str = self.cleaned_data["cwd"]
        if cwd and not cwd.startswith("/"):
            raise forms.ValidationError("Use an absolute path (starting with /).")
        return cwd

    def run_request(self, agent: Agent) -> RunRequest:
        data = self.cleaned_data
        return RunRequest(
            agent=agent,
            input=data["input"],
            screenplay=data["screenplay"],
            cwd=data["cwd"],
            context_mode=data["context_mode"],
        )


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Agent) -> str:  # type: ignore[override]
        return f"{obj} ({obj.slug}, {obj.model})"


class AdminStartRunForm(AdminRunForm):
    """The admin's "Start a run": one agent, then the run's live page."""

    agent = AgentChoiceField(
        queryset=Agent.objects.filter(is_active=True).order_by("name"),
        error_messages={"invalid_choice": "Unknown or inactive agent: choose one from the list."},
    )
    field_order = ["agent", "input", "cwd", "screenplay", "context_mode"]

    def start_request(self) -> RunRequest:
        return self.run_request(self.cleaned_data["agent"])
