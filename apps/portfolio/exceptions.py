from rest_framework import status

from apps.core.exceptions import ConductorError, ServiceUnavailable


class PortfolioNotConfigured(ServiceUnavailable):
    code = "portfolio_not_configured"
    default_message = "portfolio chat is not configured"


class PortfolioSessionNotFound(ConductorError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "portfolio_session_not_found"
    default_message = "Unknown chat session: start a new one by leaving out session_id."


class PortfolioAnswerFailed(ConductorError):
    status_code = status.HTTP_502_BAD_GATEWAY
    code = "portfolio_answer_failed"
    default_message = "The assistant could not answer just now. Please try again later."


class PortfolioAnswerTimedOut(ConductorError):
    status_code = status.HTTP_504_GATEWAY_TIMEOUT
    code = "portfolio_answer_timed_out"
    default_message = "The assistant took too long to answer. Please try again later."
