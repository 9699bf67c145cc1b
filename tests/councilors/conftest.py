"""Councilor fixtures: the run fixtures (eager Celery, echo tool, an agent on the fake LLM)."""

import pytest

from tests.councilors.helpers import promote
from tests.runs.conftest import eager_celery, echo_tool, native_agent  # noqa: F401


@pytest.fixture
def councilor(request, editor):
    """An enabled councilor of the native agent, every 30 minutes."""
    return promote(editor, request.getfixturevalue("native_agent"))
