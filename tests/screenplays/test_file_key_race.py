import pytest

from apps.screenplays import services
from apps.screenplays.exceptions import DuplicateScreenplay
from apps.screenplays.models import Screenplay

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_create_that_loses_the_race_for_a_file_key_gets_a_conflict_naming_the_winner(
    monkeypatch,
):
    winner = services.screenplay_create(
        name="Winner", content="# Winner\n", file_path="/docs/plan.md"
    )
    real_lookup = services.screenplay_with_file_key
    lookups = []

    def racing_lookup(**kwargs):
        # The first check runs as if the winner had not committed yet.
        lookups.append(kwargs)
        return None if len(lookups) == 1 else real_lookup(**kwargs)

    monkeypatch.setattr(services, "screenplay_with_file_key", racing_lookup)

    with pytest.raises(DuplicateScreenplay) as raised:
        services.screenplay_create(name="Loser", content="# Loser\n", file_path="/docs/plan.md")

    assert raised.value.details == {"id": winner.pk, "name": "Winner", "match": "file_key"}
    assert list(Screenplay.all_objects.values_list("name", flat=True)) == ["Winner"]


def test_a_deleted_screenplay_does_not_hold_its_file_key():
    first = services.screenplay_create(name="First", content="# A\n", file_path="/docs/plan.md")
    services.screenplay_soft_delete(screenplay=first)

    second = services.screenplay_create(name="Second", content="# B\n", file_path="/docs/plan.md")

    assert second.file_key == first.file_key
