from apps.core.exceptions import ConductorError, Conflict


class AgentInUse(Conflict):
    code = "agent_in_use"
    default_message = "The agent is referenced by other objects and cannot be deleted."


class UnknownTemplateSet(ConductorError):
    code = "unknown_template_set"
    default_message = "There is no template set of that name."
