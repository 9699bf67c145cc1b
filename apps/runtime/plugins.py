"""Plugin discovery: the ``conductor.plugins`` entry points and the CONDUCTOR_PLUGIN_DIRS folders.

A plugin resolves to one of:

- a callable ``register(registry)``;
- a module with a ``register(registry)`` function, or else a ``TOOLS`` list of tool classes or
  instances;
- a ``BaseTool`` subclass or instance.

A plugin folder holds plugins as modules (``name.py``) or packages (``name/__init__.py``); names
starting with ``_`` or ``.`` are skipped. Each is imported as ``conductor_plugins.<name>`` so it
can never shadow an installed module, and ``sys.path`` is left alone: a package reaches its own
modules with relative imports.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

from django.conf import settings

from apps.runtime.tools import BaseTool, PluginRegistry, registry

ENTRY_POINT_GROUP = "conductor.plugins"
MODULE_PREFIX = "conductor_plugins"


@dataclass(frozen=True)
class Plugin:
    name: str
    source: str  # "module:attr" of an entry point, or a path
    load: Callable[[], object]


def load_configured_plugins() -> None:
    """Installs the configured plugins into the shared registry; calling it again is harmless.

    Call it after the core tools are registered, so a plugin that reuses a core tool's name is
    the one rejected.
    """
    registry.load_plugins()


def load_plugins(
    target: PluginRegistry,
    *,
    entry_points: Iterable[metadata.EntryPoint] | None = None,
    plugin_dirs: Iterable[str | Path] | None = None,
) -> None:
    for plugin in [*entry_point_plugins(entry_points), *directory_plugins(plugin_dirs)]:
        target.install_plugin(plugin.name, plugin.source, partial(_install, plugin))


def entry_point_plugins(entry_points: Iterable[metadata.EntryPoint] | None) -> list[Plugin]:
    if entry_points is None:
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    return [Plugin(point.name, point.value, point.load) for point in entry_points]


def directory_plugins(plugin_dirs: Iterable[str | Path] | None) -> list[Plugin]:
    if plugin_dirs is None:
        plugin_dirs = settings.CONDUCTOR_PLUGIN_DIRS
    folders = [
        Path(settings.BASE_DIR, directory) for directory in plugin_dirs
    ]  # relative: to BASE_DIR
    return [plugin for folder in folders for plugin in _plugins_in(folder)]


def import_from_path(name: str, path: Path) -> ModuleType:
    """Imports the module file or package folder at ``path`` afresh as conductor_plugins.<name>."""
    module_name = f"{MODULE_PREFIX}.{name}"
    spec = _spec(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import a plugin from {path}")
    module = importlib.util.module_from_spec(spec)
    _forget(module_name)
    sys.modules[module_name] = module  # relative imports inside a package look for it there
    try:
        spec.loader.exec_module(module)
    except BaseException:
        _forget(module_name)
        raise
    return module


def _plugins_in(directory: Path) -> list[Plugin]:
    if not directory.is_dir():
        return [Plugin(directory.name, str(directory), partial(_missing, directory))]
    entries = sorted(entry for entry in directory.iterdir() if _is_plugin(entry))
    return [_path_plugin(entry) for entry in entries]


def _is_plugin(entry: Path) -> bool:
    if entry.name.startswith(("_", ".")):
        return False
    if entry.is_dir():
        return (entry / "__init__.py").is_file()
    return entry.suffix == ".py"


def _path_plugin(entry: Path) -> Plugin:
    name = entry.name if entry.is_dir() else entry.stem
    return Plugin(name, str(entry), partial(import_from_path, name, entry))


def _missing(directory: Path) -> None:
    raise FileNotFoundError(f"plugin directory {directory} does not exist")


def _spec(module_name: str, path: Path) -> ModuleSpec | None:
    if path.is_dir():
        return importlib.util.spec_from_file_location(
            module_name, path / "__init__.py", submodule_search_locations=[str(path)]
        )
    return importlib.util.spec_from_file_location(module_name, path)


def _forget(module_name: str) -> None:
    for loaded in [m for m in sys.modules if m == module_name or m.startswith(module_name + ".")]:
        del sys.modules[loaded]


def _install(plugin: Plugin, target: PluginRegistry) -> None:
    apply(target, plugin.load())


def apply(target: PluginRegistry, found: object) -> None:
    """Registers what a plugin resolved to (see the module docstring)."""
    if isinstance(found, ModuleType):
        _apply_module(target, found)
    elif isinstance(found, BaseTool) or (isinstance(found, type) and issubclass(found, BaseTool)):
        target.register(found)
    elif callable(found):
        found(target)
    else:
        raise TypeError(f"{found!r} is not a register(registry) callable, a module or a tool")


def _apply_module(target: PluginRegistry, module: ModuleType) -> None:
    register = getattr(module, "register", None)
    if callable(register):
        register(target)
        return
    tools = getattr(module, "TOOLS", None)
    if tools is None:
        raise TypeError(f"module {module.__name__} has neither register(registry) nor TOOLS")
    for tool in tools:
        target.register(tool)
