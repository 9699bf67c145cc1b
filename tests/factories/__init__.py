"""factory_boy factories, one module per app, re-exported here."""

from tests.factories.agents import AgentFactory
from tests.factories.users import DEFAULT_PASSWORD, UserFactory

__all__ = ["DEFAULT_PASSWORD", "AgentFactory", "UserFactory"]
from tests.factories.personas import PersonaFactory

__all__ += ["PersonaFactory"]
from tests.factories.screenplays import ScreenplayFactory  # noqa: E402

__all__ += ["ScreenplayFactory"]
from tests.factories.conversations import (  # noqa: E402
    AgentInstanceFactory,
    ConversationFactory,
    MessageFactory,
)

__all__ += ["AgentInstanceFactory", "ConversationFactory", "MessageFactory"]
from tests.factories.runs import RunFactory  # noqa: E402

__all__ += ["RunFactory"]
from tests.factories.activity import TaskEventFactory  # noqa: E402

__all__ += ["TaskEventFactory"]
from tests.factories.mcp_client import McpServerFactory  # noqa: E402

__all__ += ["McpServerFactory"]
