"""The run fixtures (eager Celery, an agent on the fake LLM, the echo tool) for feed tests."""

from tests.runs.conftest import eager_celery, echo_tool, native_agent  # noqa: F401
