import pytest

pytestmark = pytest.mark.django_db


def test_the_schema_describes_every_screenplay_endpoint(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    paths = response.json()["paths"]
    for suffix in [
        "",
        "{id}/",
        "{id}/rename/",
        "{id}/working-directory/",
        "{id}/mark-as-used/",
        "{id}/restore/",
        "validate-markdown/",
        "check-duplicate/",
    ]:
        assert f"/api/screenplays/{suffix}" in paths
    create = paths["/api/screenplays/"]["post"]
    assert "force" in {parameter["name"] for parameter in create["parameters"]}
    listing = paths["/api/screenplays/"]["get"]
    assert {"search", "ordering", "tags", "page"} <= {p["name"] for p in listing["parameters"]}
