"""Errors of the tool registry and plugin loading."""

from __future__ import annotations


class UnknownTool(LookupError):
    pass


class InvalidTool(ValueError):
    """A tool that cannot be offered to a model: bad name, schema or type."""


class DuplicateTool(ValueError):
    def __init__(self, name: str, *, source: str, existing_source: str) -> None:
        self.name = name
        self.source = source
        self.existing_source = existing_source
        super().__init__(
            f"tool {name!r} from {describe_source(source)} duplicates the one from "
            f"{describe_source(existing_source)}"
        )


class DuplicatePlugin(ValueError):
    pass


def describe_source(source: str) -> str:
    return "core" if source == "core" else f"plugin {source!r}"
