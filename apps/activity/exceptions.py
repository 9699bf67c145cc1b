from rest_framework import status

from apps.core.exceptions import ConductorError


class TaskEventTooLarge(ConductorError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "payload_too_large"
    default_message = "The task event is too large."
