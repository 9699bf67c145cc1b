from __future__ import annotations

from typing import Any

import factory

from apps.personas import services
from apps.personas.models import Persona
from tests.factories.users import UserFactory


class PersonaFactory(factory.django.DjangoModelFactory):
    """A persona created through the service, so it starts with version 1 by ``author``."""

    class Meta:
        model = Persona

    name = factory.Sequence(lambda n: f"Persona {n}")
    content = factory.Faker("paragraph")
    metadata = factory.LazyFunction(lambda: {"tone": "friendly"})

    @classmethod
    def _create(cls, model_class: type[Persona], *args: Any, **kwargs: Any) -> Persona:
        author = kwargs.pop("author", None) or UserFactory(username="persona-author")
        reason = kwargs.pop("change_reason", "Created by a factory")
        return services.persona_create(actor=author, change_reason=reason, **kwargs)
