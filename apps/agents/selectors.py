"""Reads over agents, including the ranking behind ``POST /api/agents/suggest/``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from apps.agents.models import Agent

# Where a word matches says how much it tells about the agent.
FIELD_WEIGHTS = {"name": 3.0, "tags": 3.0, "description": 2.0, "persona": 1.0}
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "could",
        "do",
        "for",
        "from",
        "has",
        "have",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "please",
        "should",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "this",
        "to",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "which",
        "who",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)


@dataclass(frozen=True)
class AgentMatch:
    agent: Agent
    score: float
    reason: str


@cache
def _english_stemmer() -> Any:
    import snowballstemmer  # at first use: it loads the stemmers of every language

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    return _english_stemmer().stemWord(word)


def text_terms(text: str) -> set[str]:
    """Stemmed content words of ``text``: the unit of full-text matching."""
    words = set(_WORD.findall(text.lower())) - _STOPWORDS
    return {_stem(word) for word in words if len(word) > 1}


def _agent_fields(agent: Agent) -> dict[str, set[str]]:
    persona = agent.persona
    persona_text = f"{persona.name}\n{persona.content}" if persona is not None else ""
    return {
        "name": text_terms(f"{agent.name} {agent.slug.replace('_', ' ')}"),
        "tags": text_terms(" ".join(agent.tags)),
        "description": text_terms(agent.description),
        "persona": text_terms(persona_text),
    }


def _reason(matched: dict[str, set[str]]) -> str:
    fields = [field for field, terms in matched.items() if terms]
    words = sorted(set().union(*matched.values()))
    return f"matches {', '.join(repr(w) for w in words)} in {', '.join(fields)}"


def _score(query: set[str], agent: Agent) -> AgentMatch:
    matched = {field: query & terms for field, terms in _agent_fields(agent).items()}
    gained = sum(FIELD_WEIGHTS[field] * len(terms) for field, terms in matched.items())
    possible = sum(FIELD_WEIGHTS.values()) * len(query)
    score = round(gained / possible, 4)
    return AgentMatch(agent=agent, score=score, reason=_reason(matched) if score else "no match")


def agent_rank_for_message(*, message: str) -> list[AgentMatch]:
    """Active agents that match ``message``, best first; each score is within (0, 1]."""
    query = text_terms(message)
    if not query:
        return []
    agents = Agent.objects.filter(is_active=True).select_related("persona")
    matches = [_score(query, agent) for agent in agents]
    ranked = [match for match in matches if match.score > 0]
    return sorted(ranked, key=lambda match: (-match.score, match.agent.name))


def agent_score_for_message(*, agent: Agent, message: str) -> float:
    query = text_terms(message)
    return _score(query, agent).score if query else 0.0


@dataclass(frozen=True)
class AgentSuggestion:
    suggested: AgentMatch | None
    alternatives: list[AgentMatch]
    current_is_best: bool


def agent_suggest(
    *, message: str, limit: int = 5, current_agent: Agent | None = None
) -> AgentSuggestion:
    """The best agent for ``message``, up to ``limit - 1`` runners-up, and whether the
    conversation's current agent is already as good as the best."""
    ranked = agent_rank_for_message(message=message)
    best = ranked[0] if ranked else None
    current_is_best = current_agent is not None and (
        best is None
        or best.agent.pk == current_agent.pk
        or agent_score_for_message(agent=current_agent, message=message) >= best.score
    )
    return AgentSuggestion(
        suggested=best, alternatives=ranked[1:limit], current_is_best=current_is_best
    )
