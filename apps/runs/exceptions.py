from rest_framework import status

from apps.core.exceptions import ConductorError, Conflict, ServiceUnavailable


class RunNotCancellable(Conflict):
    code = "run_not_cancellable"
    default_message = "The run has already finished."


class InvalidRunRequest(ConductorError):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid_run_request"
    default_message = "The run cannot be started as requested."


class CwdRequired(InvalidRunRequest):
    code = "cwd_required"
    default_message = (
        "No working directory: pass cwd, or use a screenplay that has a working directory."
    )


class ApprovalAlreadyResolved(Conflict):
    code = "approval_already_resolved"
    default_message = "This approval has already been decided."


class ApprovalExpired(Conflict):
    code = "approval_expired"
    default_message = "This approval expired; the run went on as if it had been denied."


class RunQueueUnavailable(ServiceUnavailable):
    default_message = (
        "The run queue (the Celery broker) is unreachable, so the run was not started. "
        "Try again shortly."
    )
