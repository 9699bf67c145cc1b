"""Where `conductor login` keeps the server URL and token, and how the environment overrides it."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

URL_VARIABLE = "CONDUCTOR_URL"
TOKEN_VARIABLE = "CONDUCTOR_TOKEN"  # noqa: S105 (a variable name, not a secret)


class NotLoggedIn(Exception):
    """Neither the config file nor the environment give a URL and a token."""


class BrokenConfig(Exception):
    """The config file exists but is not a JSON object with string values."""


@dataclass(frozen=True)
class Credentials:
    url: str
    token: str


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base else Path(environ.get("HOME") or Path.home()) / ".config"
    return root / "conductor" / "config.json"


def save_credentials(credentials: Credentials, path: Path | None = None) -> Path:
    """Writes the file readable by its owner only, whatever umask or older file there was."""
    path = path or config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    body = json.dumps({"url": credentials.url, "token": credentials.token}, indent=2) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(body)
    return path


def stored_credentials(path: Path | None = None) -> dict[str, str]:
    path = path or config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise BrokenConfig(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise BrokenConfig(f"{path} is not a JSON object")
    return {key: value for key, value in data.items() if isinstance(value, str)}


def load_credentials(
    environ: Mapping[str, str] | None = None, path: Path | None = None
) -> Credentials:
    """CONDUCTOR_URL and CONDUCTOR_TOKEN win over the stored config, each on its own."""
    environ = os.environ if environ is None else environ
    stored = stored_credentials(path or config_path(environ))
    url = environ.get(URL_VARIABLE) or stored.get("url", "")
    token = environ.get(TOKEN_VARIABLE) or stored.get("token", "")
    if not url or not token:
        raise NotLoggedIn(
            "not logged in: run `conductor login --url URL --token TOKEN` "
            f"(or set {URL_VARIABLE} and {TOKEN_VARIABLE})"
        )
    return Credentials(url=url.rstrip("/"), token=token)
