from __future__ import annotations

from rest_framework import status

from apps.core.exceptions import ConductorError, Conflict


class InvalidReorder(ConductorError):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid_reorder"
    default_message = "The order names instances that cannot be reordered together."


class InstanceNotDeleted(Conflict):
    code = "instance_not_deleted"
    default_message = "This instance is not deleted; there is nothing to restore."
