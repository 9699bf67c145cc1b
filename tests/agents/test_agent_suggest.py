import pytest

from apps.personas.models import Persona
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    sql_persona = Persona.objects.create(
        name="Data analyst", content="You write SQL queries against warehouses and explain them."
    )
    return {
        "reviewer": AgentFactory(
            slug="code_reviewer",
            name="Code Reviewer",
            emoji="🔍",
            description="Reviews pull requests for bugs and style.",
            tags=["python", "review"],
        ),
        "analyst": AgentFactory(
            slug="analyst",
            name="Analyst",
            emoji="📊",
            description="Answers questions about company metrics.",
            tags=["metrics"],
            persona=sql_persona,
        ),
        "writer": AgentFactory(
            slug="writer",
            name="Copy Writer",
            description="Writes marketing copy and blog posts.",
            tags=["marketing"],
        ),
    }


def suggest(client, **body):
    return client.post("/api/agents/suggest/", body, format="json")


def test_the_best_matching_agent_is_suggested_with_a_reason(viewer_client, team):
    response = suggest(viewer_client, message="Please review my python pull request")

    assert response.status_code == 200
    body = response.json()
    assert body["suggested"]["slug"] == "code_reviewer"
    assert body["suggested"]["emoji"] == "🔍"
    assert 0 < body["suggested"]["score"] <= 1
    assert "review" in body["suggested"]["reason"]
    assert "tags" in body["suggested"]["reason"]
    assert body["current_is_best"] is False


def test_words_match_across_inflections(viewer_client, team):
    response = suggest(viewer_client, message="who reviewed these pulls?")

    assert response.json()["suggested"]["slug"] == "code_reviewer"


def test_the_persona_counts_in_the_match(viewer_client, team):
    response = suggest(viewer_client, message="I need an SQL query for the warehouse")

    body = response.json()
    assert body["suggested"]["slug"] == "analyst"
    assert "persona" in body["suggested"]["reason"]


def test_alternatives_follow_the_best_in_score_order(viewer_client, team):
    response = suggest(viewer_client, message="review the blog posts and the metrics")

    body = response.json()
    scores = [body["suggested"]["score"]] + [alt["score"] for alt in body["alternatives"]]
    assert scores == sorted(scores, reverse=True)
    assert len(body["alternatives"]) == 2
    assert set(body["alternatives"][0]) == {"slug", "name", "emoji", "score", "reason"}


def test_inactive_agents_are_never_suggested(viewer_client, team):
    team["reviewer"].is_active = False
    team["reviewer"].save()

    response = suggest(viewer_client, message="review my python pull request")

    slugs = [response.json()["suggested"] and response.json()["suggested"]["slug"]]
    slugs += [alt["slug"] for alt in response.json()["alternatives"]]
    assert "code_reviewer" not in slugs


def test_nothing_is_suggested_when_nothing_matches(viewer_client, team):
    body = suggest(viewer_client, message="zebra xylophone").json()

    assert body == {"suggested": None, "alternatives": [], "current_is_best": False}


def test_the_current_agent_is_best_when_it_is_the_top_match(viewer_client, team):
    body = suggest(
        viewer_client, message="review python code", current_agent="code_reviewer"
    ).json()

    assert body["current_is_best"] is True


def test_the_current_agent_is_not_best_when_another_matches_better(viewer_client, team):
    body = suggest(viewer_client, message="review python code", current_agent="writer").json()

    assert body["current_is_best"] is False
    assert body["suggested"]["slug"] == "code_reviewer"


def test_limit_caps_the_alternatives(viewer_client, team):
    body = suggest(viewer_client, message="review the blog posts and the metrics", limit=2).json()

    assert len(body["alternatives"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"message": ""},
        {"message": "x" * 4001},
        {"message": "review", "current_agent": "nobody"},
        {"message": "review", "current_agent": "bad-slug!"},
        {"message": "review", "limit": 0},
        {"message": "review", "limit": "many"},
    ],
)
def test_bad_suggest_input_gets_400(viewer_client, team, body):
    response = viewer_client.post("/api/agents/suggest/", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_suggest_needs_authentication(api_client, team):
    assert suggest(api_client, message="review").status_code == 401
