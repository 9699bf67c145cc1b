from rest_framework import status

from apps.core.exceptions import ConductorError


class InvalidReorder(ConductorError):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid_reorder"
    default_message = "The order names instances that cannot be reordered together."
