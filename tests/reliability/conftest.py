from tests.runs.conftest import eager_celery  # noqa: F401 - runs execute through the real task
