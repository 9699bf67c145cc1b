"""Conductor settings, driven by environment variables.

Absent variables fall back to the embedded default: SQLite, no Redis, an
in-memory channel layer, a local-memory cache and an in-process Celery broker.
Production sets ``DJANGO_DEBUG=false`` and must then provide a secret key.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import dj_database_url
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from conductor_site.env import env_bool, env_float, env_int, env_list, env_required, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env", override=False)

# litellm fetches a price map from the network at import unless told otherwise.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

VERSION = "0.1.0"

DEBUG = env_bool("DJANGO_DEBUG", default=True)
DATA_DIR = Path(env_str("CONDUCTOR_DATA_DIR") or BASE_DIR / "var")

if DEBUG:
    SECRET_KEY = (
        env_str("DJANGO_SECRET_KEY") or "django-insecure-development-only-never-deploy-this"
    )
else:
    SECRET_KEY = env_required(
        "DJANGO_SECRET_KEY", "production (DJANGO_DEBUG=false) refuses to start without it"
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Not "daphne": its AppConfig only swaps in an ASGI ``runserver`` and costs every
# manage.py command Twisted and autobahn at start-up. ``manage.py serve`` (and the
# Dockerfile, and docker-compose) run daphne themselves.
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "corsheaders",
    "drf_spectacular",
    "channels",
    "django_celery_beat",
    "simple_history",
    "apps.core",
    "apps.personas",
    "apps.screenplays",
    "apps.agents",
    "apps.conversations",
    "apps.instances",
    "apps.runtime",
    "apps.runs",
    "apps.tools",
    "apps.streams",
    "apps.archive",
    "apps.mcp",
    "apps.mcp_client",
    "apps.councilors",
    "apps.activity",
    "apps.portfolio",
]

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    # Before anything that can answer on its own, so that those answers carry CORS headers.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Innermost: its 503 for a database outage goes out through all of the above.
    "apps.core.middleware.DatabaseOutageMiddleware",
]

ROOT_URLCONF = "conductor_site.urls"
ASGI_APPLICATION = "conductor_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


# --- Database -------------------------------------------------------------


def _database_from_url(url: str, variable: str = "DATABASE_URL") -> dict[str, Any]:
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=0))
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"{variable} is not a valid database URL: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine == "django.db.backends.postgresql":
        # psycopg's pool replaces persistent connections, which leak under ASGI. While the
        # database is down a request waits `timeout` for a connection, then answers 503.
        pool = {"timeout": env_float("CONDUCTOR_DB_POOL_TIMEOUT", 10.0, minimum=0.1)}
        config["OPTIONS"] = {**config.get("OPTIONS", {}), "pool": pool}
        config["CONN_MAX_AGE"] = 0
        # With the pool, Django checks each connection as it hands it out: after a database
        # restart the dead ones are replaced instead of failing the requests that drew them.
        config["CONN_HEALTH_CHECKS"] = True
    elif engine == "django.db.backends.sqlite3":
        config["OPTIONS"] = _SQLITE_OPTIONS
    else:
        raise ImproperlyConfigured(
            f"{variable} must be a postgresql:// or sqlite:// URL, got engine {engine!r}"
        )
    return config


# Web, worker and beat share one SQLite file in the embedded default: WAL and
# IMMEDIATE transactions let them queue for the write lock instead of failing.
_SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": _database_from_url(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            "OPTIONS": _SQLITE_OPTIONS,
            # Kept open: closing a file's last connection checkpoints its WAL, which cost
            # every task of the embedded worker about 10 ms; reopening costs the pragmas.
            "CONN_MAX_AGE": None,
            # A file, not the in-memory default: in-memory SQLite shared between
            # threads fails with "table is locked" instead of waiting its turn, and
            # tests run workers and heartbeats on threads as production does.
            "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"conductor-test-{os.getpid()}.db")},
        }
    }


def _read_only_view(default: dict[str, Any]) -> dict[str, Any]:
    """The default database again, for the sql_query tool; the tool also forces read-only."""
    if default["ENGINE"] != "django.db.backends.sqlite3":
        copy = {key: value for key, value in default.items() if key != "TEST"}
        return {**copy, "OPTIONS": dict(default.get("OPTIONS", {}))}
    # Django opens SQLite names as URIs; mode=ro makes the file itself refuse writes.
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": f"file:{quote(str(default['NAME']))}?mode=ro",
        "OPTIONS": {"timeout": 5},
    }


def _sql_tool_database(default: dict[str, Any]) -> dict[str, Any]:
    url = env_str("CONDUCTOR_SQL_TOOL_DATABASE_URL")
    config = (
        _database_from_url(url, "CONDUCTOR_SQL_TOOL_DATABASE_URL")
        if url
        else _read_only_view(default)
    )
    # Tests reach the default test database through this alias instead of creating one.
    return {**config, "TEST": {"MIRROR": "default"}}


DATABASES["sql_tool"] = _sql_tool_database(DATABASES["default"])

_DATABASE_ALIAS_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _extra_databases(entries: list[str], reserved: set[str]) -> dict[str, dict[str, Any]]:
    """``alias=url`` entries of CONDUCTOR_EXTRA_DATABASES, e.g. the target of archive_migrate."""
    variable = "CONDUCTOR_EXTRA_DATABASES"
    databases: dict[str, dict[str, Any]] = {}
    for entry in entries:
        alias, _, url = (part.strip() for part in entry.partition("="))
        if not _DATABASE_ALIAS_RE.fullmatch(alias) or not url:
            raise ImproperlyConfigured(
                f"{variable} entries are alias=url (alias: letters, digits, _), got {entry!r}"
            )
        if alias in reserved:
            raise ImproperlyConfigured(f"{variable} cannot redefine the {alias!r} database alias")
        if alias in databases:
            raise ImproperlyConfigured(f"{variable} names the database alias {alias!r} twice")
        databases[alias] = _database_from_url(url, f"{variable} ({alias})")
    return databases


# More database aliases, as comma-separated alias=url pairs. archive_migrate copies agents,
# personas and screenplays between any two of them (e.g. from SQLite to PostgreSQL).
DATABASES.update(_extra_databases(env_list("CONDUCTOR_EXTRA_DATABASES", []), set(DATABASES)))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Redis: channel layer, cache and broker -------------------------------

REDIS_URL = env_str("REDIS_URL")

if REDIS_URL:
    # Pub/sub rather than the list-based core layer: one PUBLISH per group_send however
    # many streams follow the run, and no per-channel capacity that drops messages under
    # fan-out (bench/fanout.py measures both). Streams re-read the log for anything missed.
    # apps.streams.layers wakes its reader on the first subscription (see there).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "apps.streams.layers.PubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "conductor:channels"},
        }
    }
    CACHES = {
        "default": {
            # Only rate-limit counters live here: an outage lets requests through (see there).
            "BACKEND": "apps.core.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "conductor",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Only reachable from the process that hosts the worker: `manage.py serve`.
    CELERY_BROKER_URL = "memory://localhost/"

CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, float] = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
if not REDIS_URL:
    # memory:// polls its queues, by default once a second: a queued run waited for that.
    CELERY_BROKER_TRANSPORT_OPTIONS["polling_interval"] = 0.01
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False


# --- Auth, i18n, static ----------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Development serves static files straight from the apps (WhiteNoise's finders);
# production serves what `collectstatic` gathered here.
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles") if not DEBUG else None
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "admin:login"


# --- Request limits ---------------------------------------------------------

# A request body, files aside (JSON, form fields): over it the API answers 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
# A whole multipart body, files included: over it the upload is refused (413) unread.
CONDUCTOR_MAX_UPLOAD_BYTES = env_int("CONDUCTOR_MAX_UPLOAD_BYTES", 10 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_HANDLERS = [
    "apps.core.parsers.UploadSizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# How deeply a JSON body may nest arrays and objects (400 beyond).
CONDUCTOR_MAX_JSON_DEPTH = env_int("CONDUCTOR_MAX_JSON_DEPTH", 64, minimum=2)
# A WebSocket message from a client: over it the consumer closes the socket with 4009
# (1009 "message too big" in the application range); see apps.core.serving for daphne's.
CONDUCTOR_WS_MAX_MESSAGE_BYTES = env_int("CONDUCTOR_WS_MAX_MESSAGE_BYTES", 65_536, minimum=1024)


# --- CORS and security headers ---------------------------------------------

# Origins (scheme://host[:port]) whose pages may call the API and the streams. Credentials
# are not allowed: a cross-origin caller sends a token, never the user's session cookie,
# so the allow-list cannot open a way around CSRF.
CORS_ALLOWED_ORIGINS = env_list("CONDUCTOR_CORS_ALLOWED_ORIGINS", [])
CORS_URLS_REGEX = r"^/(api/|execute$)"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = (*cors_default_headers, "last-event-id")
CORS_EXPOSE_HEADERS = ["X-Request-ID"]

# Django's defaults, stated because tests and `check --deploy` rely on them.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"


# --- Django REST framework and OpenAPI ------------------------------------

REST_FRAMEWORK = {
    # Token first, so that an anonymous request gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.StandardPagination",
    "PAGE_SIZE": env_int("CONDUCTOR_PAGE_SIZE", 50, minimum=1),
    "DEFAULT_FILTER_BACKENDS": [
        "apps.core.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
    # DRF's own JSON parser reads past DATA_UPLOAD_MAX_MEMORY_SIZE and has no depth limit.
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Client IPs come from REMOTE_ADDR unless a proxy count is declared, so that
    # X-Forwarded-For cannot be forged to dodge rate limits.
    "NUM_PROXIES": env_int("DJANGO_NUM_PROXIES", 0, minimum=0),
    "DEFAULT_THROTTLE_RATES": {
        "auth": env_str("CONDUCTOR_AUTH_THROTTLE_RATE") or "10/minute",
        "portfolio": env_str("CONDUCTOR_PORTFOLIO_THROTTLE_RATE") or "20/minute",
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Conductor API",
    "DESCRIPTION": "Author, run, schedule and watch LLM agents.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs are public in development only.
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny"
        if DEBUG
        else "rest_framework.permissions.IsAuthenticated"
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    # The error envelope on every operation that can fail (apps.core.openapi).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.openapi.document_error_responses",
    ],
    # Several models have "status" and "type" fields; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "InstanceStatusEnum": "apps.instances.models.InstanceStatus",
        "MessageStatusEnum": "apps.conversations.models.MessageStatus",
        "MessageTypeEnum": "apps.conversations.models.MessageType",
        "RunStatusEnum": "apps.runs.models.RunStatus",
        "RunStepKindEnum": "apps.runs.models.RunStepKind",
        "RunSourceEnum": "apps.runs.models.RunSource",
        "SeverityEnum": "apps.runs.models.Severity",
        "ContextModeEnum": "apps.runs.models.ContextMode",
        "ToolCategoryEnum": "apps.runtime.tools.ToolCategory",
        "ApprovalStatusEnum": "apps.runs.models.ApprovalStatus",
    },
}


# --- Conductor -------------------------------------------------------------

CONDUCTOR_HEALTH_TIMEOUT = env_float("CONDUCTOR_HEALTH_TIMEOUT", 2.0, minimum=0.1)
CONDUCTOR_RUN_TIMEOUT_SECONDS = env_int("CONDUCTOR_RUN_TIMEOUT_SECONDS", 600, minimum=1)
CONDUCTOR_RUN_HEARTBEAT_SECONDS = env_float("CONDUCTOR_RUN_HEARTBEAT_SECONDS", 5.0, minimum=0.1)
CONDUCTOR_RUN_STALE_AFTER_SECONDS = env_int("CONDUCTOR_RUN_STALE_AFTER_SECONDS", 60, minimum=1)
CONDUCTOR_RUN_REAPER_INTERVAL_SECONDS = env_int(
    "CONDUCTOR_RUN_REAPER_INTERVAL_SECONDS", 30, minimum=1
)
CONDUCTOR_LLM_NUM_RETRIES = env_int("CONDUCTOR_LLM_NUM_RETRIES", 2, minimum=0)
# The longest wait for a provider's next byte: past it the attempt fails (retried, then
# the fallback models) instead of holding the run until its own timeout.
CONDUCTOR_LLM_TIMEOUT_SECONDS = env_float("CONDUCTOR_LLM_TIMEOUT_SECONDS", 120.0, minimum=0.1)
CONDUCTOR_APPROVAL_TTL_SECONDS = env_int("CONDUCTOR_APPROVAL_TTL_SECONDS", 3600, minimum=1)
CONDUCTOR_CANCEL_POLL_SECONDS = env_float("CONDUCTOR_CANCEL_POLL_SECONDS", 0.25, minimum=0.01)
# Folders of tool plugins (modules or packages), besides the "conductor.plugins" entry points.
CONDUCTOR_PLUGIN_DIRS = env_list("CONDUCTOR_PLUGIN_DIRS", [])
# code_run: the default wall-clock limit (a call may ask for up to 60 s), the address-space
# limit, and whether to refuse when no network namespace can be created.
CONDUCTOR_CODE_RUN_TIMEOUT = min(env_int("CONDUCTOR_CODE_RUN_TIMEOUT", 10, minimum=1), 60)
CONDUCTOR_CODE_RUN_MEMORY_MB = env_int("CONDUCTOR_CODE_RUN_MEMORY_MB", 256, minimum=64)
CONDUCTOR_CODE_RUN_REQUIRE_NETNS = env_bool("CONDUCTOR_CODE_RUN_REQUIRE_NETNS", default=True)
# web_fetch: host[:port], IP or CIDR entries reachable even when the address is
# otherwise blocked (loopback, private...). Meant for tests; empty in production.
CONDUCTOR_WEB_FETCH_ALLOW = env_list("CONDUCTOR_WEB_FETCH_ALLOW", [])
CONDUCTOR_WEB_FETCH_TIMEOUT = min(env_float("CONDUCTOR_WEB_FETCH_TIMEOUT", 30.0, minimum=0.1), 30.0)

# The sql_query tool: the database alias it reads, its row cap and statement timeout.
CONDUCTOR_SQL_TOOL_DATABASE = env_str("CONDUCTOR_SQL_TOOL_DATABASE") or "sql_tool"
CONDUCTOR_SQL_TOOL_MAX_ROWS = env_int("CONDUCTOR_SQL_TOOL_MAX_ROWS", 100, minimum=1)
if CONDUCTOR_SQL_TOOL_MAX_ROWS > 1000:
    raise ImproperlyConfigured(
        f"CONDUCTOR_SQL_TOOL_MAX_ROWS must be at most 1000, got {CONDUCTOR_SQL_TOOL_MAX_ROWS}"
    )
CONDUCTOR_SQL_TOOL_TIMEOUT_MS = env_int("CONDUCTOR_SQL_TOOL_TIMEOUT_MS", 5000, minimum=1)
# Functions that sleep, touch files, reach other servers, signal backends or change settings.
CONDUCTOR_SQL_TOOL_DENIED_FUNCTIONS = env_list(
    "CONDUCTOR_SQL_TOOL_DENIED_FUNCTIONS",
    [
        "pg_sleep", "pg_sleep_for", "pg_sleep_until",
        "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file",
        "pg_ls_logdir", "pg_ls_waldir", "pg_ls_tmpdir", "pg_ls_archive_statusdir",
        "pg_file_write", "pg_file_rename", "pg_file_unlink",
        "lo_import", "lo_export", "dblink", "dblink_exec", "dblink_connect",
        "dblink_send_query", "pg_terminate_backend", "pg_cancel_backend",
        "set_config", "pg_reload_conf", "pg_rotate_logfile", "pg_switch_wal",
        "pg_promote", "pg_notify", "pg_advisory_lock", "pg_advisory_lock_shared",
        "pg_try_advisory_lock", "pg_try_advisory_lock_shared",
        "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "cursor_to_xml",
        "load_extension", "readfile", "writefile", "randomblob", "zeroblob",
    ],
)  # fmt: skip

# How often beat checks the health of every enabled external MCP server.
CONDUCTOR_MCP_HEALTH_SECONDS = env_int("CONDUCTOR_MCP_HEALTH_SECONDS", 300, minimum=10)

CELERY_BEAT_SCHEDULE = {
    "reap-stale-runs": {
        "task": "runs.reap_stale_runs",
        "schedule": float(CONDUCTOR_RUN_REAPER_INTERVAL_SECONDS),
    },
    "check-mcp-servers": {
        "task": "mcp_client.check_servers",
        "schedule": float(CONDUCTOR_MCP_HEALTH_SECONDS),
    },
}

# Where archive_write puts backups (and archive_read finds them); nothing outside it is read
# or written. Empty: <CONDUCTOR_DATA_DIR>/backups. A relative path is taken from the project.
_BACKUP_DIR = env_str("CONDUCTOR_BACKUP_DIR")
CONDUCTOR_BACKUP_DIR = (BASE_DIR / _BACKUP_DIR).resolve() if _BACKUP_DIR else None

# Without workers runs wait in the queue; a deployment may declare them required.
CONDUCTOR_HEALTH_REQUIRE_WORKERS = env_bool("CONDUCTOR_HEALTH_REQUIRE_WORKERS", default=False)
CONDUCTOR_DEMO_USERNAME = env_str("CONDUCTOR_DEMO_USERNAME") or "demo"
# Empty: the demo agents use the default model (apps.runtime.providers.default_model).
CONDUCTOR_DEMO_MODEL = env_str("CONDUCTOR_DEMO_MODEL")
# Empty: the first configured provider's model, or the offline demo model without any key.
CONDUCTOR_DEFAULT_MODEL = env_str("CONDUCTOR_DEFAULT_MODEL")
# Live streams: an idle SSE stream sends a ": keepalive" comment, and re-reads the run's
# log for anything the channel layer did not deliver, this often.
CONDUCTOR_SSE_KEEPALIVE_SECONDS = env_float("CONDUCTOR_SSE_KEEPALIVE_SECONDS", 15.0, minimum=0.01)
# Python < 3.12 only: collect garbage on a dedicated thread instead of inside whatever
# allocation crosses the threshold, which can crash the interpreter (apps/core/gc_guard.py).
CONDUCTOR_GC_ON_THREAD = env_bool("CONDUCTOR_GC_ON_THREAD", default=True)
# Public portfolio chat (POST /api/portfolio/chat/): the agent it runs, in contextual mode.
CONDUCTOR_PORTFOLIO_AGENT = env_str("CONDUCTOR_PORTFOLIO_AGENT") or "portfolio"
CONDUCTOR_PORTFOLIO_TIMEOUT_SECONDS = env_int("CONDUCTOR_PORTFOLIO_TIMEOUT_SECONDS", 60, minimum=1)
# The working directory of portfolio runs (an absolute path). Empty: <CONDUCTOR_DATA_DIR>/portfolio,
# an empty directory created on first use. The portfolio agent should have no file tools.
CONDUCTOR_PORTFOLIO_CWD = env_str("CONDUCTOR_PORTFOLIO_CWD")
# Proxies (IPs or CIDR networks) whose X-Forwarded-For is believed when rate limiting
# the public endpoints; from anyone else the header is ignored.
CONDUCTOR_TRUSTED_PROXIES = env_list("CONDUCTOR_TRUSTED_PROXIES", [])
# A shared secret that lets another service post task events
# (POST /api/internal/task-event/ with "Authorization: Bearer <token>"). Unset: staff only.
CONDUCTOR_SERVICE_TOKEN = env_str("CONDUCTOR_SERVICE_TOKEN")
# The working directory of a promoted councilor's screenplay when the promote names none.
# Empty: <CONDUCTOR_DATA_DIR>/councilors.
CONDUCTOR_COUNCILOR_WORKING_DIRECTORY = env_str("CONDUCTOR_COUNCILOR_WORKING_DIRECTORY")
# How many recent runs (and ticks) GET /api/councilors/{id}/reports/ lists.
CONDUCTOR_COUNCILOR_REPORT_RUNS = env_int("CONDUCTOR_COUNCILOR_REPORT_RUNS", 10, minimum=1)
# The agent the seed-gateway routes (/execute, /api/v1/stream-execute) run without agent_id.
CONDUCTOR_COMPAT_DEFAULT_AGENT = env_str("CONDUCTOR_COMPAT_DEFAULT_AGENT") or "assistant"
# The model catalog (GET /api/models/). Each id is in litellm's price map (checked by a test).
CONDUCTOR_PREFERRED_MODELS = env_list(
    "CONDUCTOR_PREFERRED_MODELS",
    [
        "gpt-4o-mini",
        "gpt-4o",
        "gpt-4.1-mini",
        "gpt-4.1",
        "anthropic/claude-haiku-4-5",
        "anthropic/claude-sonnet-4-5",
        "gemini/gemini-2.5-flash",
        "gemini/gemini-2.5-pro",
        "groq/openai/gpt-oss-120b",
        "deepseek/deepseek-chat",
        "mistral/mistral-small-latest",
    ],
)


# --- MCP server (apps.mcp) ---------------------------------------------------

# The user a stdio MCP server acts as (`manage.py mcp_server --user` wins). Over HTTP
# every request acts as the user of its bearer token instead.
CONDUCTOR_MCP_USER = env_str("CONDUCTOR_MCP_USER")
# Host header values the MCP endpoint answers (DNS-rebinding protection), each on any port.
CONDUCTOR_MCP_ALLOWED_HOSTS = env_list("CONDUCTOR_MCP_ALLOWED_HOSTS", ALLOWED_HOSTS)
# The execute tools' default `timeout`: the run's wall-clock limit and how long a call waits.
CONDUCTOR_MCP_RUN_TIMEOUT_SECONDS = env_int("CONDUCTOR_MCP_RUN_TIMEOUT_SECONDS", 300, minimum=1)
# The working directory of MCP runs that name none and have no screenplay to take it from.
CONDUCTOR_MCP_DEFAULT_CWD = env_str("CONDUCTOR_MCP_DEFAULT_CWD")
if CONDUCTOR_MCP_DEFAULT_CWD and not CONDUCTOR_MCP_DEFAULT_CWD.startswith("/"):
    raise ImproperlyConfigured(
        f"CONDUCTOR_MCP_DEFAULT_CWD must be an absolute path, got {CONDUCTOR_MCP_DEFAULT_CWD!r}"
    )
# True: the MCP server executes its runs itself, on a thread, as `POST /execute` does; it
# needs no worker. False: runs go to the Celery workers and the MCP server waits for them.
CONDUCTOR_MCP_RUN_INLINE = env_bool("CONDUCTOR_MCP_RUN_INLINE", default=True)


# --- External MCP servers (apps.mcp_client) ------------------------------------

# The executables a stdio MCP server may run: absolute paths, or bare names found on
# PATH. Empty: no stdio server can be registered.
CONDUCTOR_MCP_STDIO_COMMANDS = env_list("CONDUCTOR_MCP_STDIO_COMMANDS", [])
# host[:port], IP or CIDR entries of internal MCP servers an HTTP registration may
# reach although their address is otherwise blocked (loopback, private...).
CONDUCTOR_MCP_CLIENT_ALLOW = env_list("CONDUCTOR_MCP_CLIENT_ALLOW", [])
# ${NAME} references in headers and env may only name variables with these prefixes.
CONDUCTOR_MCP_SECRET_ENV_PREFIXES = env_list("CONDUCTOR_MCP_SECRET_ENV_PREFIXES", ["MCP_"])
# cleanup/ disables servers not seen (heartbeat or health check) for this long.
CONDUCTOR_MCP_STALE_SECONDS = env_int("CONDUCTOR_MCP_STALE_SECONDS", 900, minimum=1)


# --- Production hardening --------------------------------------------------

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # The container healthcheck talks plain HTTP from inside the container.
    SECURE_REDIRECT_EXEMPT = [r"^health$"]
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True


# --- Logging ---------------------------------------------------------------

LOG_LEVEL = env_str("DJANGO_LOG_LEVEL") or "INFO"
LOG_FORMAT = env_str("CONDUCTOR_LOG_FORMAT") or ("console" if DEBUG else "json")
if LOG_FORMAT not in {"console", "json"}:
    raise ImproperlyConfigured(
        f"CONDUCTOR_LOG_FORMAT must be 'console' or 'json', got {LOG_FORMAT!r}"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "apps.core.logging.ContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(run_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "console": {
            "()": "apps.core.logging.ConsoleFormatter",
            "format": "%(asctime)s %(levelname)-7s [%(context)s] %(name)s: %(message)s",
        },
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "filters": ["context"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "daphne": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "LiteLLM": {"level": "WARNING"},
    },
}
