"""The REST doors of conversations and their messages."""

from apps.conversations.api.conversations import ConversationViewSet
from apps.conversations.api.messages import MessageViewSet

__all__ = ["ConversationViewSet", "MessageViewSet"]
