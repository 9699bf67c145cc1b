from __future__ import annotations

from rest_framework import status

from apps.core.exceptions import ConductorError, Conflict


class CouncilorBusy(Conflict):
    code = "councilor_busy"
    default_message = "The councilor's previous run is still going; this one was skipped."


class CouncilorUnavailable(Conflict):
    code = "councilor_unavailable"
    default_message = "The councilor's agent instance is deleted or its agent is inactive."


class InvalidPromotion(ConductorError):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid_promotion"
    default_message = "The agent cannot be promoted as requested."
