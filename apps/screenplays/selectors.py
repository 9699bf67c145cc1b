from __future__ import annotations

import json
import re
from collections.abc import Iterable

from django.db import connection
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast

from apps.screenplays.models import Screenplay

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def screenplay_with_file_key(*, file_key: str, exclude_id: int | None = None) -> Screenplay | None:
    """The active screenplay stored at this file key, other than ``exclude_id``."""
    if not file_key:
        return None
    return _active_except(exclude_id).filter(file_key=file_key).order_by("id").first()


def screenplay_with_content_hash(
    *, content_hash: str, exclude_id: int | None = None
) -> Screenplay | None:
    if not content_hash:
        return None
    return _active_except(exclude_id).filter(content_hash=content_hash).order_by("id").first()


def _active_except(exclude_id: int | None) -> QuerySet[Screenplay]:
    queryset = Screenplay.objects.all()
    return queryset.exclude(pk=exclude_id) if exclude_id is not None else queryset


def screenplay_search(*, queryset: QuerySet[Screenplay], query: str) -> QuerySet[Screenplay]:
    """Full-text search over name, description and content.

    PostgreSQL ranks stemmed matches (best first); other databases keep rows
    containing every word, in the queryset's own order.
    """
    query = _printable(query)
    words = query.split()
    if not words:
        return queryset
    if connection.vendor == "postgresql":
        return _postgres_search(queryset, query)
    return queryset.filter(*(_contains_word(word) for word in words))


def _contains_word(word: str) -> Q:
    return Q(name__icontains=word) | Q(description__icontains=word) | Q(content__icontains=word)


def _postgres_search(queryset: QuerySet[Screenplay], query: str) -> QuerySet[Screenplay]:
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    vector = (
        SearchVector("name", weight="A", config="english")
        + SearchVector("description", weight="B", config="english")
        + SearchVector("content", weight="C", config="english")
    )
    search_query = SearchQuery(query, search_type="websearch", config="english")
    return (
        queryset.annotate(search_vector=vector)
        .filter(search_vector=search_query)
        .annotate(rank=SearchRank(vector, search_query))
        .order_by("-rank", "-updated_at", "-id")
    )


def screenplays_tagged(
    *, queryset: QuerySet[Screenplay], tags: Iterable[str]
) -> QuerySet[Screenplay]:
    """Rows carrying every one of ``tags``."""
    for tag in tags:
        queryset = _with_tag(queryset, _printable(tag))
    return queryset


def _printable(text: str) -> str:
    # PostgreSQL refuses NUL in text: a query containing one would be a 500.
    return _CONTROL.sub(" ", text)


def _with_tag(queryset: QuerySet[Screenplay], tag: str) -> QuerySet[Screenplay]:
    if connection.features.supports_json_field_contains:
        return queryset.filter(tags__contains=[tag])
    # SQLite has no JSON containment: match the quoted element in the stored JSON text.
    return queryset.alias(tags_text=Cast("tags", TextField())).filter(
        tags_text__contains=json.dumps(tag)
    )


def screenplay_all_tags() -> list[str]:
    """Every tag in use, sorted: one query, for the admin's filter."""
    tags: set[str] = set()
    for row in Screenplay.all_objects.values_list("tags", flat=True):
        tags.update(tag for tag in row or [] if isinstance(tag, str))
    return sorted(tags)
