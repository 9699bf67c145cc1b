import pytest

from apps.portfolio import services

pytestmark = pytest.mark.django_db


def test_staff_see_portfolio_sessions_read_only(admin_client, django_assert_max_num_queries):
    sessions = [services.portfolio_session_start() for _ in range(3)]

    with django_assert_max_num_queries(10):
        response = admin_client.get("/admin/portfolio/portfoliosession/")

    assert response.status_code == 200
    body = response.content.decode()
    assert all(session.id[:8] in body for session in sessions)
    assert "/admin/portfolio/portfoliosession/add/" not in body
