from rest_framework import status

from apps.core.exceptions import ConductorError, Conflict


class InvalidUpload(ConductorError):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid_upload"
    default_message = "The uploaded file is not a markdown text file Conductor can use."


class ForeignInstance(ConductorError):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "foreign_instance"
    default_message = "The agent instance does not take part in this conversation."


class ForeignMessage(ConductorError):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "foreign_message"
    default_message = "The parent message belongs to another conversation."


class InvalidReorder(ConductorError):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid_reorder"
    default_message = "The order names conversations that cannot be reordered."


class ConversationNotDeleted(Conflict):
    code = "conversation_not_deleted"
    default_message = "This conversation is not deleted; there is nothing to restore."
