"""The API's filter backend skips a FilterSet only when it could not filter anything."""

import pytest
from django_filters import rest_framework as filters
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.agents.models import Agent
from apps.core.filters import FilterBackend
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


class SlugFilter(filters.FilterSet):
    slug = filters.CharFilter()

    class Meta:
        model = Agent
        fields = ["slug"]


class RequiredSlugFilter(SlugFilter):
    slug = filters.CharFilter(required=True)


class View:
    def __init__(self, filterset_class: type[filters.FilterSet]) -> None:
        self.filterset_class = filterset_class


def filtered(query: dict[str, str], filterset_class: type[filters.FilterSet] = SlugFilter):
    request = Request(APIRequestFactory().get("/api/agents/", query))
    queryset = Agent.objects.all()
    return queryset, FilterBackend().filter_queryset(request, queryset, View(filterset_class))


def test_with_no_filter_named_the_queryset_comes_back_untouched():
    AgentFactory.create_batch(2)

    queryset, result = filtered({"page": "2", "search": "x"})

    assert result is queryset


def test_a_named_filter_still_filters():
    AgentFactory(slug="writer")
    AgentFactory(slug="reader")

    _, result = filtered({"slug": "writer"})

    assert [agent.slug for agent in result] == ["writer"]


def test_a_required_filter_that_is_absent_is_still_a_400():
    with pytest.raises(ValidationError):
        filtered({}, RequiredSlugFilter)
