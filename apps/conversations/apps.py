from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "apps.conversations"
    label = "conversations"
    verbose_name = "Conversations"

    def ready(self) -> None:
        from apps.conversations.tools import GetConversationHistoryTool
        from apps.runtime.tools import registry

        registry.register(GetConversationHistoryTool())
