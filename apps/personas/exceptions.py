from __future__ import annotations

from rest_framework import status

from apps.core.exceptions import ConductorError, Conflict


class DuplicatePersonaName(Conflict):
    code = "duplicate_persona_name"
    default_message = "Another persona already has this name."


class PersonaInUse(Conflict):
    code = "persona_in_use"
    default_message = "The persona is still used and cannot be deleted."


class PersonaVersionNotFound(ConductorError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "version_not_found"
    default_message = "This persona has no such version."
