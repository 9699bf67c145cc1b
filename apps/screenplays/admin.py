from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.core.admin_actions import apply_to_each
from apps.core.exceptions import ConductorError
from apps.core.markdown import render_markdown
from apps.screenplays import services
from apps.screenplays.exceptions import InvalidMarkdown, MarkdownWarningsNotForced
from apps.screenplays.markdown_validation import MarkdownIssue, validate_markdown
from apps.screenplays.models import Screenplay
from apps.screenplays.selectors import screenplay_all_tags, screenplays_tagged


class ScreenplayAdminForm(forms.ModelForm):
    force = forms.BooleanField(
        required=False,
        label="Save despite warnings",
        help_text="Store content that has markdown warnings. Content with errors is never saved.",
    )

    class Meta:
        model = Screenplay
        fields = list(services.WRITABLE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Markdown's whitespace is content: stripping it would change the hash and version.
        self.fields["content"].strip = False  # type: ignore[attr-defined]

    # After Django has built the instance and run the model's own validation.
    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        if not self.errors:
            self._check_save()

    def _check_save(self) -> None:
        force = bool(self.cleaned_data.get("force"))
        try:
            services.screenplay_check_save(screenplay=self.instance, force=force)
        except (InvalidMarkdown, MarkdownWarningsNotForced) as exc:
            self.add_error("content", _issue_messages(exc))
        except ConductorError as exc:
            self.add_error(None, exc.message)
        except ValidationError as exc:
            self.add_error(None, exc)


def _issue_messages(exc: ConductorError) -> list[str]:
    details = exc.details or {}
    issues = details.get("errors") or details.get("warnings") or []
    return [exc.message, *(f"Line {i['line']}: {i['message']} ({i['code']})" for i in issues)]


class TagListFilter(admin.SimpleListFilter):
    title = "tag"
    parameter_name = "tag"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(tag, tag) for tag in screenplay_all_tags()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return screenplays_tagged(queryset=queryset, tags=[value]) if value else queryset


@admin.register(Screenplay)
class ScreenplayAdmin(admin.ModelAdmin):
    form = ScreenplayAdminForm
    list_display = [
        "name",
        "version",
        "working_directory",
        "last_used_at",
        "is_deleted",
        "updated_at",
    ]
    list_filter = ["is_deleted", TagListFilter, "created_at", "updated_at", "last_used_at"]
    search_fields = ["name", "description", "content", "file_path"]
    date_hierarchy = "updated_at"
    readonly_fields = [
        "version",
        "content_hash",
        "file_key",
        "last_used_at",
        "is_deleted",
        "deleted_at",
        "created_at",
        "updated_at",
        "validation_result",
        "markdown_preview",
    ]
    fieldsets = [
        (None, {"fields": ["name", "description", "tags"]}),
        ("Content", {"fields": ["content", "force", "validation_result", "markdown_preview"]}),
        ("Files", {"fields": ["working_directory", "file_path", "import_path", "export_path"]}),
        (
            "Bookkeeping",
            {
                "fields": [
                    "version",
                    "content_hash",
                    "file_key",
                    "last_used_at",
                    "is_deleted",
                    "deleted_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]
    actions = ["soft_delete_selected", "restore_selected", "mark_as_used", "duplicate_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Screenplay]:
        # Deleted rows stay visible to editors, behind the "is deleted" filter.
        queryset = Screenplay.all_objects.all()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    @admin.display(description="Markdown preview")
    def markdown_preview(self, obj: Screenplay) -> SafeString:
        return format_html('<div class="markdown-preview">{}</div>', render_markdown(obj.content))

    @admin.display(description="Validation")
    def validation_result(self, obj: Screenplay) -> SafeString:
        if not obj.content:
            return format_html("{}", "—")
        report = validate_markdown(obj.content)
        if not report.errors and not report.warnings:
            return format_html("{}", "Valid, no warnings.")
        return format_html(
            "<ul>{}{}</ul>",
            _issue_items("Error", report.errors),
            _issue_items("Warning", report.warnings),
        )

    def save_model(self, request: HttpRequest, obj: Screenplay, form: Any, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in services.WRITABLE_FIELDS}
        force = bool(form.cleaned_data.get("force"))
        if change:
            saved = services.screenplay_update(screenplay=obj, data=data, force=force)
        else:
            saved = services.screenplay_create(**data, force=force)
        _copy_state(saved, obj)

    # Django's delete (view and action) is the hard delete: superusers only.
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_soft_delete_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("screenplays.delete_screenplay")

    def delete_model(self, request: HttpRequest, obj: Screenplay) -> None:
        services.screenplay_hard_delete(screenplay=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Screenplay]) -> None:
        for screenplay in queryset:
            services.screenplay_hard_delete(screenplay=screenplay)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        entry = actions.pop("delete_selected", None)
        if entry is not None:
            actions["delete_selected"] = (entry[0], entry[1], "Hard delete selected (permanent)")
        return actions

    @admin.action(description="Soft delete selected screenplays", permissions=["soft_delete"])
    def soft_delete_selected(self, request: HttpRequest, queryset: QuerySet[Screenplay]) -> None:
        alive = queryset.filter(is_deleted=False)
        apply_to_each(self, request, alive, _soft_delete, "Deleted", noun="screenplay(s)")

    @admin.action(description="Restore selected screenplays", permissions=["change"])
    def restore_selected(self, request: HttpRequest, queryset: QuerySet[Screenplay]) -> None:
        deleted = queryset.filter(is_deleted=True)
        apply_to_each(self, request, deleted, _restore, "Restored", noun="screenplay(s)")

    @admin.action(description="Mark selected screenplays as used", permissions=["change"])
    def mark_as_used(self, request: HttpRequest, queryset: QuerySet[Screenplay]) -> None:
        apply_to_each(self, request, queryset, _mark_used, "Marked as used", noun="screenplay(s)")

    @admin.action(description="Duplicate selected screenplays", permissions=["add"])
    def duplicate_selected(self, request: HttpRequest, queryset: QuerySet[Screenplay]) -> None:
        apply_to_each(self, request, queryset, _duplicate, "Duplicated", noun="screenplay(s)")


def _soft_delete(screenplay: Screenplay) -> object:
    return services.screenplay_soft_delete(screenplay=screenplay)


def _restore(screenplay: Screenplay) -> object:
    return services.screenplay_restore(screenplay=screenplay)


def _mark_used(screenplay: Screenplay) -> object:
    return services.screenplay_mark_used(screenplay=screenplay)


def _duplicate(screenplay: Screenplay) -> object:
    return services.screenplay_duplicate(screenplay=screenplay)


def _issue_items(label: str, issues: list[MarkdownIssue]) -> SafeString:
    return format_html_join(
        "",
        "<li>{}: line {}: {} ({})</li>",
        ((label, entry["line"], entry["message"], entry["code"]) for entry in issues),
    )


def _copy_state(source: Screenplay, target: Screenplay) -> None:
    """The admin logs and redirects with the object it passed to save_model."""
    for field in Screenplay._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
