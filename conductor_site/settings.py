"""Conductor settings, driven by environment variables.

Absent variables fall back to the embedded default: SQLite, no Redis, an
in-memory channel layer, a local-memory cache and an in-process Celery broker.
Production sets ``DJANGO_DEBUG=false`` and must then provide a secret key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
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

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
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
]

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
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


def _database_from_url(url: str) -> dict[str, Any]:
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=0))
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine == "django.db.backends.postgresql":
        # psycopg's pool replaces persistent connections, which leak under ASGI.
        config["OPTIONS"] = {**config.get("OPTIONS", {}), "pool": True}
        config["CONN_MAX_AGE"] = 0
    elif engine == "django.db.backends.sqlite3":
        config["OPTIONS"] = _SQLITE_OPTIONS
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a postgresql:// or sqlite:// URL, got engine {engine!r}"
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
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Redis: channel layer, cache and broker -------------------------------

REDIS_URL = env_str("REDIS_URL")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "conductor:channels"},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
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
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
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
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
    # Client IPs come from REMOTE_ADDR unless a proxy count is declared, so that
    # X-Forwarded-For cannot be forged to dodge rate limits.
    "NUM_PROXIES": env_int("DJANGO_NUM_PROXIES", 0, minimum=0),
    "DEFAULT_THROTTLE_RATES": {"auth": env_str("CONDUCTOR_AUTH_THROTTLE_RATE") or "10/minute"},
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
CONDUCTOR_CANCEL_POLL_SECONDS = env_float("CONDUCTOR_CANCEL_POLL_SECONDS", 0.25, minimum=0.01)

CELERY_BEAT_SCHEDULE = {
    "reap-stale-runs": {
        "task": "runs.reap_stale_runs",
        "schedule": float(CONDUCTOR_RUN_REAPER_INTERVAL_SECONDS),
    },
}

# Without workers runs wait in the queue; a deployment may declare them required.
CONDUCTOR_HEALTH_REQUIRE_WORKERS = env_bool("CONDUCTOR_HEALTH_REQUIRE_WORKERS", default=False)
CONDUCTOR_DEMO_USERNAME = env_str("CONDUCTOR_DEMO_USERNAME") or "demo"
# Empty: the demo agents use the default model (apps.runtime.providers.default_model).
CONDUCTOR_DEMO_MODEL = env_str("CONDUCTOR_DEMO_MODEL")
# Empty: the first configured provider's model, or the offline demo model without any key.
CONDUCTOR_DEFAULT_MODEL = env_str("CONDUCTOR_DEFAULT_MODEL")
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
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"


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
