"""Typed readers for settings that come from environment variables.

Each reader fails with ``ImproperlyConfigured`` naming the variable, the bad
value and what is accepted, so a typo in a deployment stops the process at
start-up instead of surfacing later as odd behaviour.
"""

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default

    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean: use one of 1, true, yes, on, "
        "0, false, no, off."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default

    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a whole number: set it to digits only, "
            f"for example {default} (the default), or unset it."
        ) from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(
            f"{name}={value} is below the minimum {minimum}: set it to {minimum} "
            f"or more, or unset it to use the default {default}."
        )
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = os.environ.get(name, default).strip().lower()
    if raw not in choices:
        allowed = ", ".join(choices)
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not valid: use one of {allowed}."
        )
    return raw


@dataclass(frozen=True)
class DatabaseUrl:
    engine: str
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""
    options: dict[str, str] | None = None


def parse_database_url(name: str, raw: str, *, base_dir: Path) -> DatabaseUrl:
    """Parse ``sqlite:///path`` or ``postgres://user:pass@host:port/db``.

    A relative SQLite path is taken from ``base_dir``; four slashes
    (``sqlite:////abs/path``) give an absolute one.
    """
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()

    if scheme == "sqlite":
        path_text = unquote(parts.path)
        if path_text.startswith("//"):
            path = Path(path_text[1:])
        else:
            path = base_dir / path_text.lstrip("/")
        if not path_text.strip("/"):
            raise ImproperlyConfigured(
                f"{name}={raw!r} has no file path: use sqlite:///var/commonplace.sqlite3."
            )
        return DatabaseUrl(engine="django.db.backends.sqlite3", name=str(path))

    if scheme in {"postgres", "postgresql", "pgsql"}:
        database = unquote(parts.path.lstrip("/"))
        if not database:
            raise ImproperlyConfigured(
                f"{name}={raw!r} names no database: add it after the host, "
                "for example postgres://user@127.0.0.1:5432/commonplace."
            )
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        try:
            port = str(parts.port or "")
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}={raw!r} has an invalid port: use a number from 1 to 65535."
            ) from None
        return DatabaseUrl(
            engine="django.db.backends.postgresql",
            name=database,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            host=parts.hostname or "",
            port=port,
            options=query,
        )

    raise ImproperlyConfigured(
        f"{name}={raw!r} uses an unsupported scheme {scheme!r}: use sqlite:/// "
        "or postgres://."
    )


def load_settings() -> None:
    """Import the Django settings, raising a configuration error without its chain.

    The readers above raise ``ImproperlyConfigured`` while the settings module
    is imported, so the full traceback runs through Django's importer and
    names the variable only on its last line. Raised from here, it is a few
    lines that WSGI and ASGI servers log before they stop.
    """
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - reading a setting imports the module
    except ImproperlyConfigured as error:
        raise ImproperlyConfigured(f"Configuration error: {error}") from None


def load_settings_or_exit() -> None:
    """Import the Django settings, or print the configuration error and exit 1."""
    try:
        load_settings()
    except ImproperlyConfigured as error:
        sys.stderr.write(f"{error}\n")
        raise SystemExit(1) from None
