import pytest
from django.test import Client

from tests.fakes import llm_server as llm
from tests.portfolio.conftest import CHAT

pytestmark = pytest.mark.django_db(transaction=True)


def test_no_account_is_needed(visitor, portfolio_agent, fake_llm):
    fake_llm.script(llm.text("Welcome."))

    response = visitor.post(CHAT, {"message": "Hi"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["response"] == "Welcome."


def test_a_logged_in_browser_without_a_csrf_token_is_answered(viewer, portfolio_agent, fake_llm):
    fake_llm.script(llm.text("Welcome back."))
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(viewer)

    response = browser.post(CHAT, {"message": "Hi"}, content_type="application/json")

    assert response.status_code == 200, response.content
    assert response.json()["response"] == "Welcome back."


def test_a_bad_token_does_not_get_in_the_way(visitor, portfolio_agent, fake_llm):
    fake_llm.script(llm.text("Hello."))

    response = visitor.post(
        CHAT, {"message": "Hi"}, format="json", HTTP_AUTHORIZATION="Token not-a-real-token"
    )

    assert response.status_code == 200, response.content
