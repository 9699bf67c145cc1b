from __future__ import annotations

import uuid

import factory
from django.utils import timezone

from apps.screenplays.models import Screenplay
from apps.screenplays.paths import file_key_for_path
from apps.screenplays.services import content_hash


class ScreenplayFactory(factory.django.DjangoModelFactory):
    """Rows as the services would store them: hash and key match content and path."""

    class Meta:
        model = Screenplay

    class Params:
        deleted = factory.Trait(
            is_deleted=True,
            deleted_at=factory.LazyFunction(timezone.now),
            deletion_batch=factory.LazyFunction(uuid.uuid4),
        )

    name = factory.Sequence(lambda n: f"Screenplay {n}")
    description = ""
    tags = factory.LazyFunction(list)
    content = factory.Sequence(lambda n: f"# Screenplay {n}\n\nContext for screenplay {n}.\n")
    file_path = ""
    content_hash = factory.LazyAttribute(lambda screenplay: content_hash(screenplay.content))
    file_key = factory.LazyAttribute(lambda screenplay: file_key_for_path(screenplay.file_path))
