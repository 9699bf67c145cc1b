"""Admin for conversations and messages; every save and action goes through the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.conversations import selectors, services
from apps.conversations.models import Conversation, Message
from apps.core.admin_actions import apply_to_each
from apps.core.exceptions import ConductorError
from apps.instances.models import AgentInstance

CONVERSATION_FIELDS = (
    "title",
    "context",
    "screenplay",
    "max_chain_depth",
    "auto_delegate",
    "display_order",
)
BOOKKEEPING_FIELDS = [
    "created_by",
    "is_deleted",
    "deleted_at",
    "deletion_reason",
    "created_at",
    "updated_at",
]


class SoftDeleteAdminMixin:
    """Deleted rows stay listed (behind the is_deleted filter); hard delete is superusers'."""

    model: Any

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = self.model.all_objects.all()
        ordering = self.get_ordering(request)  # type: ignore[attr-defined]
        return queryset.order_by(*ordering) if ordering else queryset

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_soft_delete_permission(self, request: HttpRequest) -> bool:
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.delete_{opts.model_name}")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        entry = actions.pop("delete_selected", None)
        if entry is not None:
            actions["delete_selected"] = (entry[0], entry[1], "Hard delete selected (permanent)")
        return actions


class MessageInline(admin.TabularInline):
    """The conversation's messages, each thread together; unhide or hide from here."""

    model = Message
    fk_name = "conversation"
    fields = ["thread", "type", "status", "agent", "content_excerpt", "is_hidden", "is_deleted"]
    readonly_fields = ["thread", "type", "status", "agent", "content_excerpt", "is_deleted"]
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        messages_ = Message.all_objects.select_related("agent")
        return selectors.messages_threaded(messages_)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Thread")
    def thread(self, obj: Message) -> SafeString:
        if obj.parent_id is None:
            return format_html("#{}", obj.pk)
        return format_html(
            '<span style="padding-left:2em">↳ #{} (reply to #{})</span>', obj.pk, obj.parent_id
        )

    @admin.display(description="Content")
    def content_excerpt(self, obj: Message) -> str:
        return obj.content[:200]


class InstanceInline(admin.TabularInline):
    model = AgentInstance
    fk_name = "conversation"
    fields = ["agent", "status", "display_order", "cwd", "is_deleted"]
    readonly_fields = ["agent", "status", "display_order", "cwd", "is_deleted"]
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgentInstance]:
        return AgentInstance.all_objects.select_related("agent").order_by("display_order", "id")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ConversationAdminForm(forms.ModelForm):
    class Meta:
        model = Conversation
        fields = [*CONVERSATION_FIELDS, "active_agent"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("active_agent")
        if isinstance(field, forms.ModelChoiceField):
            # Only this conversation's own (alive) instances can be its active agent.
            field.queryset = AgentInstance.objects.filter(
                conversation_id=self.instance.pk
            ).select_related("agent", "screenplay")


@admin.register(Conversation)
class ConversationAdmin(SoftDeleteAdminMixin, admin.ModelAdmin):
    form = ConversationAdminForm
    list_display = [
        "title",
        "created_by",
        "screenplay",
        "active_agent_name",
        "message_count",
        "auto_delegate",
        "display_order",
        "is_deleted",
        "updated_at",
    ]
    list_select_related = ["created_by", "screenplay", "active_agent__agent"]
    list_filter = ["is_deleted", "screenplay", "auto_delegate"]
    search_fields = ["title", "context", "created_by__username"]
    readonly_fields = BOOKKEEPING_FIELDS
    inlines = [InstanceInline, MessageInline]
    actions = ["soft_delete_selected", "restore_selected", "clone_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        return super().get_queryset(request).annotate(**selectors.message_count_annotation())

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        main = [*CONVERSATION_FIELDS, *(["active_agent"] if obj is not None else [])]
        return [
            (None, {"fields": main}),
            ("Bookkeeping", {"fields": BOOKKEEPING_FIELDS, "classes": ["collapse"]}),
        ]

    @admin.display(description="Active agent")
    def active_agent_name(self, obj: Conversation) -> str:
        return str(obj.active_agent.agent) if obj.active_agent else "—"

    @admin.display(description="Messages", ordering="message_count")
    def message_count(self, obj: Conversation) -> int:
        return int(getattr(obj, "message_count", 0))

    def save_model(self, request: HttpRequest, obj: Conversation, form: Any, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in CONVERSATION_FIELDS}
        if not change:
            saved = services.conversation_create(actor=request.user, **data)
            _copy_state(saved, obj)
            return
        services.conversation_save(conversation=obj, actor=request.user)
        if "active_agent" in form.changed_data:
            services.conversation_set_active_agent(
                conversation=obj, instance=form.cleaned_data["active_agent"], actor=request.user
            )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        for message in formset.save(commit=False):
            services.message_set_hidden(
                message=message, hidden=message.is_hidden, actor=request.user
            )

    def delete_model(self, request: HttpRequest, obj: Conversation) -> None:
        services.conversation_hard_delete(conversation=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        for conversation in queryset:
            services.conversation_hard_delete(conversation=conversation, actor=request.user)

    @admin.action(description="Soft delete selected conversations", permissions=["soft_delete"])
    def soft_delete_selected(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        operation = _acting(services.conversation_soft_delete, "conversation", request)
        apply_to_each(self, request, queryset.filter(is_deleted=False), operation, "Deleted")

    @admin.action(description="Restore selected conversations", permissions=["change"])
    def restore_selected(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        operation = _acting(services.conversation_restore, "conversation", request)
        apply_to_each(self, request, queryset.filter(is_deleted=True), operation, "Restored")

    @admin.action(description="Clone selected conversations", permissions=["add"])
    def clone_selected(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        operation = _acting(services.conversation_clone, "conversation", request)
        apply_to_each(self, request, queryset.filter(is_deleted=False), operation, "Cloned")


class MessageAdminForm(forms.ModelForm):
    class Meta:
        model = Message
        fields = ["conversation", "type", "content", "status", "agent", "parent", "is_hidden"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        conversation, parent = cleaned.get("conversation"), cleaned.get("parent")
        if self.instance.pk is None and conversation is not None:
            try:
                services.message_check_parent(conversation=conversation, parent=parent)
            except ConductorError as exc:
                self.add_error("parent", exc.message)
        return cleaned


@admin.register(Message)
class MessageAdmin(SoftDeleteAdminMixin, admin.ModelAdmin):
    form = MessageAdminForm
    list_display = [
        "id",
        "content_excerpt",
        "conversation",
        "type",
        "status",
        "agent",
        "parent_id",
        "is_hidden",
        "is_deleted",
        "created_at",
    ]
    list_select_related = ["conversation", "agent"]
    list_filter = ["type", "status", "is_hidden", "is_deleted"]
    search_fields = ["content"]
    raw_id_fields = ["conversation", "parent"]
    autocomplete_fields = ["agent"]
    actions = ["hide_selected", "unhide_selected", "soft_delete_selected", "restore_selected"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A posted message is history: only whether it is hidden can change.
        if obj is None:
            return []
        return [
            "conversation",
            "type",
            "content",
            "status",
            "agent",
            "parent",
            "thread_root",
            *BOOKKEEPING_FIELDS[:4],
            "created_at",
        ]

    @admin.display(description="Content")
    def content_excerpt(self, obj: Message) -> str:
        return obj.content[:80]

    def save_model(self, request: HttpRequest, obj: Message, form: Any, change: bool) -> None:
        if change:
            services.message_set_hidden(message=obj, hidden=obj.is_hidden, actor=request.user)
            return
        data = dict(form.cleaned_data)
        saved = services.message_create(actor=request.user, **data)
        _copy_state(saved, obj)

    def delete_model(self, request: HttpRequest, obj: Message) -> None:
        services.message_hard_delete(message=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        for message in queryset:
            services.message_hard_delete(message=message, actor=request.user)

    @admin.action(description="Hide selected messages", permissions=["change"])
    def hide_selected(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        apply_to_each(self, request, queryset, _set_hidden(request, hidden=True), "Hid")

    @admin.action(description="Unhide selected messages", permissions=["change"])
    def unhide_selected(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        apply_to_each(self, request, queryset, _set_hidden(request, hidden=False), "Unhid")

    @admin.action(description="Soft delete selected messages", permissions=["soft_delete"])
    def soft_delete_selected(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        operation = _acting(services.message_soft_delete, "message", request)
        apply_to_each(self, request, queryset.filter(is_deleted=False), operation, "Deleted")

    @admin.action(description="Restore selected messages", permissions=["change"])
    def restore_selected(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        operation = _acting(services.message_restore, "message", request)
        apply_to_each(self, request, queryset.filter(is_deleted=True), operation, "Restored")


def _acting(
    service: Callable[..., object], argument: str, request: HttpRequest
) -> Callable[[Any], object]:
    return lambda obj: service(**{argument: obj}, actor=request.user)


def _set_hidden(request: HttpRequest, *, hidden: bool) -> Callable[[Message], object]:
    return lambda message: services.message_set_hidden(
        message=message, hidden=hidden, actor=request.user
    )


def _copy_state(source: Any, target: Any) -> None:
    """The admin logs and redirects with the object it passed to save_model."""
    for field in type(source)._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
