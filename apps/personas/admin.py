from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from simple_history.admin import SimpleHistoryAdmin
from simple_history.manager import SIMPLE_HISTORY_REVERSE_ATTR_NAME

from apps.core.markdown import render_markdown
from apps.personas import selectors, services
from apps.personas.exceptions import PersonaVersionNotFound
from apps.personas.models import CHANGE_REASON_MAX_LENGTH, Persona, normalize_line_endings


class PersonaAdminForm(forms.ModelForm):
    change_reason = forms.CharField(
        required=False,
        max_length=CHANGE_REASON_MAX_LENGTH,
        help_text="Why you are making this change; it is recorded in the history.",
    )

    class Meta:
        model = Persona
        fields = ["name", "content", "metadata"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Markdown is stored as typed: trailing newlines are part of the content.
        self.fields["content"].strip = False  # type: ignore[attr-defined]

    def clean_content(self) -> str:
        return normalize_line_endings(self.cleaned_data.get("content") or "")


class VersionDiffForm(forms.Form):
    version1 = forms.TypedChoiceField(coerce=int, label="From version")
    version2 = forms.TypedChoiceField(coerce=int, label="To version")

    def __init__(self, *args: Any, versions: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(number, f"Version {number}") for number in versions]
        self.fields["version1"].choices = choices  # type: ignore[attr-defined]
        self.fields["version2"].choices = choices  # type: ignore[attr-defined]


def _editor(request: HttpRequest) -> AbstractBaseUser:
    assert isinstance(request.user, AbstractBaseUser), "admin views require a logged-in user"
    return request.user


def _default_diff_pair(versions: list[int]) -> dict[str, int]:
    """The newest version against the one before it (versions are newest first)."""
    return {"version1": versions[min(1, len(versions) - 1)], "version2": versions[0]}


@admin.register(Persona)
class PersonaAdmin(SimpleHistoryAdmin):
    form = PersonaAdminForm
    list_display = ["name", "version_count", "updated_at", "last_changed_by"]
    search_fields = ["name", "content"]
    list_filter = ["updated_at", "created_at"]
    ordering = ["name"]
    readonly_fields = ["current_version", "version_links", "preview"]
    fieldsets = [
        (None, {"fields": ["name", "content", "metadata", "change_reason"]}),
        ("Versions", {"fields": ["current_version", "version_links"]}),
        ("Preview", {"fields": ["preview"]}),
    ]
    actions = ["duplicate"]
    history_list_display = ["version", "diff_link"]
    diff_template = "admin/personas/persona/diff.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Persona]:
        ordering = self.get_ordering(request) or ["name"]
        return selectors.personas_with_version_info().order_by(*ordering)

    def get_history_queryset(self, request: HttpRequest, *args: Any, **kwargs: Any) -> QuerySet:
        return super().get_history_queryset(request, *args, **kwargs).order_by("-version")

    @admin.display(description="Versions", ordering="version_count")
    def version_count(self, obj: Persona) -> int:
        return getattr(obj, "version_count", 0)

    @admin.display(description="Last changed by", ordering="last_changed_by")
    def last_changed_by(self, obj: Persona) -> str:
        return getattr(obj, "last_changed_by", None) or "-"

    @admin.display(description="Current version")
    def current_version(self, obj: Persona) -> int | str:
        return getattr(obj, "current_version", None) or "-"

    @admin.display(description="History")
    def version_links(self, obj: Persona) -> SafeString | str:
        if obj.pk is None:
            return "-"
        history = reverse("admin:personas_persona_history", args=[obj.pk])
        diff = reverse("admin:personas_persona_diff", args=[obj.pk])
        return format_html(
            '<a href="{}">All versions</a> · <a href="{}">Compare versions</a>', history, diff
        )

    @admin.display(description="Preview")
    def preview(self, obj: Persona) -> SafeString:
        return format_html('<div class="persona-preview">{}</div>', render_markdown(obj.content))

    def diff_link(self, record: Any) -> SafeString | str:
        if record.version <= 1:
            return "-"
        url = reverse("admin:personas_persona_diff", args=[record.id])
        query = f"?version1={record.version - 1}&version2={record.version}"
        return format_html('<a href="{}{}">Compare with previous</a>', url, query)

    def save_model(
        self, request: HttpRequest, obj: Persona, form: forms.Form, change: bool
    ) -> None:
        reverted = getattr(obj, SIMPLE_HISTORY_REVERSE_ATTR_NAME, None)
        reason = form.cleaned_data.get("change_reason") or (
            f"Reverted to version {reverted.version}" if reverted is not None else None
        )
        services.persona_save(persona=obj, actor=_editor(request), change_reason=reason)

    def delete_model(self, request: HttpRequest, obj: Persona) -> None:
        services.persona_delete(
            persona=obj,
            actor=_editor(request),
            change_reason="Deleted in the admin",
        )

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Persona]) -> None:
        for persona in queryset:
            self.delete_model(request, persona)

    @admin.action(description="Duplicate the selected personas", permissions=["add"])
    def duplicate(self, request: HttpRequest, queryset: QuerySet[Persona]) -> None:
        with transaction.atomic():
            copies = [
                services.persona_duplicate(
                    persona=persona,
                    actor=_editor(request),
                    change_reason=f"Duplicated from {persona.name!r} in the admin",
                )
                for persona in queryset
            ]
        names = ", ".join(copy.name for copy in copies)
        self.message_user(request, f"Created {len(copies)} copies: {names}.", messages.SUCCESS)

    def get_urls(self) -> list[URLPattern | URLResolver]:
        diff = path(
            "<path:object_id>/diff/",
            self.admin_site.admin_view(self.diff_view),
            name="personas_persona_diff",
        )
        return [diff, *super().get_urls()]

    def diff_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        persona = self.get_object(request, unquote(object_id))
        if persona is None:
            raise Http404("No such persona.")
        if not self.has_view_or_change_permission(request, persona):
            raise PermissionDenied
        versions = list(
            selectors.persona_versions(persona=persona).values_list("version", flat=True)
        )
        data = request.GET if "version1" in request.GET else _default_diff_pair(versions or [0])
        form = VersionDiffForm(data, versions=versions)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Compare versions: {persona}",
            "opts": self.opts,
            "original": persona,
            "form": form,
            "diff": self._diff_or_none(persona, form),
        }
        return TemplateResponse(request, self.diff_template, context)

    def _diff_or_none(self, persona: Persona, form: VersionDiffForm) -> Any:
        if not form.is_valid():
            return None
        try:
            return selectors.persona_versions_diff(persona=persona, **form.cleaned_data)
        except PersonaVersionNotFound as exc:
            form.add_error(None, exc.message)
            return None
