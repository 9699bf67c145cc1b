from __future__ import annotations

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from apps.conversations.api import ConversationViewSet, MessageViewSet

router = SimpleRouter()
router.register("conversations", ConversationViewSet, basename="conversation")
router.register(
    r"conversations/(?P<conversation_pk>[0-9]+)/messages",
    MessageViewSet,
    basename="conversation-message",
)

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
