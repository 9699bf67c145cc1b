from apps.core.exceptions import Conflict


class AgentInUse(Conflict):
    code = "agent_in_use"
    default_message = "The agent is referenced by other objects and cannot be deleted."
