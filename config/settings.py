"""Seam's one settings module, driven by the environment.

Defaults give an embedded setup that works on a fresh checkout (SQLite in WAL mode and a
Celery broker that needs no server). Set DATABASE_URL / REDIS_URL for Postgres and Redis,
the production path. See .env.example for every variable.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SEAM_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

# Only ever used with DEBUG on: production refuses to boot with it (below).
INSECURE_DEV_SECRET_KEY = "django-insecure-seam-development-only"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY") or (INSECURE_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and SECRET_KEY in ("", INSECURE_DEV_SECRET_KEY):
    raise ImproperlyConfigured("Set SECRET_KEY to a long random value (or DEBUG=1 for development).")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "rest_framework.authtoken",
    "workspaces",
    "events",
    "identities",
    "forwarding",
    "tracking",
    "segments",
    "dashboards",
    "privacy",
    "demo",
    "customerio_emulator",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "events.api.cors.IngestCorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'seam.sqlite3'}"
# Persistent connections: reconnecting per request costs several times the throughput.
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web process, worker and beat read while one of them writes; IMMEDIATE
        # takes the write lock up front instead of failing a read-to-write upgrade mid-transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not :memory:, so a test's Celery worker or server process sees the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-seam.sqlite3")}
elif (prepare_threshold := env_int("DATABASE_PREPARE_THRESHOLD", 5)) > 0:
    # Postgres binds the parameters (psycopg no longer quotes them into the text), and a statement run that many
    # times on a connection is prepared there: parsed and planned once. Ingest runs the same dozen statements
    # for every message; planning the write-key look-up alone cost ten times running it (bench/ANALYSIS.md).
    # DATABASE_PREPARE_THRESHOLD=0 for a transaction-pooling proxy that cannot carry prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=prepare_threshold)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, Celery and cache ------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # Kombu's filesystem transport: a real broker shared by web, worker and beat, with no server.
    BROKER_DIR = VAR_DIR / "broker"
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_PUBLISH_RETRY = False  # a broker outage must not hold an ingest request
# Forwarding never waits behind a slow count: the dashboards' and segments' periodic work has a queue of
# its own, which Procfile.dev gives its own worker (`-Q`). A worker started without -Q takes both.
CELERY_TASK_QUEUES = (Queue("celery"), Queue("maintenance"))
CELERY_TASK_ROUTES = {
    "dashboards.tasks.*": {"queue": "maintenance"},
    "segments.tasks.*": {"queue": "maintenance"},
}
CELERY_BEAT_SCHEDULE = {
    "forwarding-sweep": {
        "task": "forwarding.tasks.deliveries_sweep_task",
        "schedule": float(env_int("SEAM_FORWARDING_SWEEP_SECONDS", 5)),
    },
    "tracking-orders-release": {
        "task": "tracking.tasks.orders_release_unconfirmed_task",
        "schedule": float(env_int("SEAM_ORDERS_RELEASE_SECONDS", 60)),
    },
    "segments-snapshot": {
        "task": "segments.tasks.segments_snapshot_task",
        "schedule": float(env_int("SEAM_SEGMENTS_SNAPSHOT_SECONDS", 300)),
    },
    "dashboards-rollups": {
        "task": "dashboards.tasks.health_rollups_refresh_task",
        "schedule": float(env_int("SEAM_DASHBOARD_ROLLUP_SECONDS", 300)),
    },
}

# --- Auth, i18n, static -------------------------------------------------------------------------
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
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [path for path in [BASE_DIR / "static"] if path.is_dir()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# --- Production hardening (manage.py check --deploy passes with DEBUG off) ----------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"

# --- REST framework and the OpenAPI schema ------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["events.api.rendering.OrjsonRenderer"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "EXCEPTION_HANDLER": "events.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Seam API",
    "DESCRIPTION": "Segment-spec ingest for browsers and servers, forwarded to Customer.io.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "writeKeyBasic": {"type": "http", "scheme": "basic", "description": "the write key as username"},
            "writeKeyBearer": {"type": "http", "scheme": "bearer", "description": "the write key"},
        }
    },
}

# --- Ingest limits (Segment's documented limits) -------------------------------------------------
SEAM_MAX_MESSAGE_BYTES = env_int("SEAM_MAX_MESSAGE_BYTES", 32 * 1024)
SEAM_MAX_BATCH_BYTES = env_int("SEAM_MAX_BATCH_BYTES", 500 * 1024)
SEAM_MAX_BATCH_MESSAGES = env_int("SEAM_MAX_BATCH_MESSAGES", 2500)
# A corrected timestamp further ahead of the receive time than this is clamped and flagged.
SEAM_MAX_FUTURE_SECONDS = env_int("SEAM_MAX_FUTURE_SECONDS", 600)
# Single messages arriving in one web process while a commit is in flight share the next one, up to this
# many requests (events/services.py: event_store_grouped; 1 commits each alone).
SEAM_INGEST_GROUP_MAX = env_int("SEAM_INGEST_GROUP_MAX", 64)
# Ingest rate limits, requests per second with a burst (0 turns one off); see events/api/throttling.py.
SEAM_INGEST_RATE_PER_IP = env_int("SEAM_INGEST_RATE_PER_IP", 100)
SEAM_INGEST_BURST_PER_IP = env_int("SEAM_INGEST_BURST_PER_IP", 200)
SEAM_INGEST_RATE_PER_KEY = env_int("SEAM_INGEST_RATE_PER_KEY", 500)
SEAM_INGEST_BURST_PER_KEY = env_int("SEAM_INGEST_BURST_PER_KEY", 1000)
# Behind N reverse proxies, the client address is the Nth entry from the right of X-Forwarded-For.
SEAM_TRUSTED_PROXY_COUNT = env_int("SEAM_TRUSTED_PROXY_COUNT", 0)
# PII hygiene for context.ip: "truncate" (IPv4 /24, IPv6 /48), "keep" or "drop".
SEAM_IP_HANDLING = os.environ.get("SEAM_IP_HANDLING", "truncate")
if SEAM_IP_HANDLING not in ("truncate", "keep", "drop"):
    raise ImproperlyConfigured(f"SEAM_IP_HANDLING must be truncate, keep or drop, not {SEAM_IP_HANDLING!r}")
# --- Forwarding to Customer.io -------------------------------------------------------------------
SEAM_DELIVERY_MAX_ATTEMPTS = env_int("SEAM_DELIVERY_MAX_ATTEMPTS", 12)
SEAM_DELIVERY_DEAD_AFTER_SECONDS = env_int("SEAM_DELIVERY_DEAD_AFTER_SECONDS", 6 * 3600)
SEAM_DELIVERY_BASE_BACKOFF_SECONDS = env_int("SEAM_DELIVERY_BASE_BACKOFF_SECONDS", 1)
SEAM_DELIVERY_MAX_BACKOFF_SECONDS = env_int("SEAM_DELIVERY_MAX_BACKOFF_SECONDS", 600)
# A delivery claimed longer ago than this belongs to a worker that died: it is sent again
# (Customer.io de-duplicates events by their ULID id, and identifies and merges are idempotent).
SEAM_DELIVERY_STUCK_AFTER_SECONDS = env_int("SEAM_DELIVERY_STUCK_AFTER_SECONDS", 120)
SEAM_DELIVERY_CLAIM_SIZE = env_int("SEAM_DELIVERY_CLAIM_SIZE", 500)

# Our own cap on what Django reads; ingest enforces the exact limits above with {code, message}.
DATA_UPLOAD_MAX_MEMORY_SIZE = SEAM_MAX_BATCH_BYTES * 2

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
