"""Domain errors as MCP tool errors: a sentence for the model, never a traceback."""

from __future__ import annotations

import pytest
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from mcp.server.mcpserver.exceptions import ToolError
from rest_framework import exceptions as drf

from apps.mcp.errors import domain_errors, tool_error_for
from apps.runs.exceptions import CwdRequired, RunNotCancellable


def message(exc: Exception) -> str:
    error = tool_error_for(exc)
    assert isinstance(error, ToolError)
    return str(error)


def test_a_domain_error_reads_as_its_message_code_and_details():
    assert message(CwdRequired()).endswith("[cwd_required]")
    finished = RunNotCancellable(details={"status": "succeeded"})
    assert message(finished) == (
        f'{finished.message} [{finished.code}] ({{"status": "succeeded"}})'
    )


def test_validation_errors_name_each_field():
    nested = drf.ValidationError({"input": ["Too long."], "non_field_errors": ["Pick one."]})
    django = DjangoValidationError({"name": ["This field cannot be blank."]})

    assert message(nested) == "Invalid input: input: Too long.; Pick one."
    assert message(django) == "Invalid input: name: This field cannot be blank."


def test_permission_and_not_found_errors_say_so():
    assert message(drf.PermissionDenied("Only staff may restore an archive.")) == (
        "Permission denied: Only staff may restore an archive."
    )
    assert message(ObjectDoesNotExist("Agent matching query does not exist.")) == (
        "Not found: Agent matching query does not exist."
    )


def test_an_unexpected_exception_is_left_to_the_sdk_which_hides_its_text():
    assert tool_error_for(KeyError("secret")) is None
    with pytest.raises(KeyError), domain_errors():
        raise KeyError("secret")


def test_the_tool_error_drops_the_chain_a_client_could_see():
    with pytest.raises(ToolError) as raised, domain_errors():
        raise CwdRequired()

    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__ is True
