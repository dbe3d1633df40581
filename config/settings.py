"""Settings for the festival pub ordering backend, driven by environment variables (CONTRACT.md section 1)."""

import os
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. Set SECRET_KEY in the environment "
            "(or DEBUG=1 for local development)."
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

# The address phones use, in QR codes and links; empty: the request's own host.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="").rstrip("/")
_public = urlsplit(PUBLIC_BASE_URL) if PUBLIC_BASE_URL else None
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
if _public and _public.hostname and "ALLOWED_HOSTS" not in os.environ:
    ALLOWED_HOSTS.append(_public.hostname)
# `make dev HOST=0.0.0.0` is for trying the app on the pub's Wi-Fi: phones arrive under the machine's LAN
# address, which is not known here. Only with debug on; a real venue sets PUBLIC_BASE_URL or ALLOWED_HOSTS.
if DEBUG and env.str("HOST", default="127.0.0.1") in {"0.0.0.0", "::"} and "ALLOWED_HOSTS" not in os.environ:
    ALLOWED_HOSTS = ["*"]
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=["http://localhost:8000", "http://127.0.0.1:8000"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=["http://localhost:8000", "http://127.0.0.1:8000"])
if _public and "CSRF_TRUSTED_ORIGINS" not in os.environ:
    CSRF_TRUSTED_ORIGINS.append(f"{_public.scheme}://{_public.netloc}")

INSTALLED_APPS = [
    "daphne",
    # Before django.contrib.auth: kitchen's createsuperuser (no email needed with --noinput) wins.
    "core",
    "background",
    "realtime",
    "ordering",
    "kitchen",
    "payments",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served by the app: a venue may have no internet
    "channels",
]

# Request ids, the access log and the body size limit are ASGI middleware around Django (core.serving).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # ETag and 304 for GET answers, so a phone that already has the menu is told it is unchanged.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.JsonErrorsMiddleware",  # last: see its docstring
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

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

# --- Database -------------------------------------------------------------------------------------
# DATABASE_URL wins; else the seed's DB_* variables when DB_HOST is set; else embedded SQLite.
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
elif env.str("DB_HOST", default=""):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "NAME": env.str("DB_NAME", default="ordering"),
            "USER": env.str("DB_USER", default="root"),
            "PASSWORD": env.str("DB_PASSWORD", default=""),
            "HOST": env.str("DB_HOST"),
            "PORT": env.str("DB_PORT", default="3306"),
        }
    }
else:
    DATABASES = {"default": env.db_url_config(f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}

_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.mysql":
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].setdefault("charset", "utf8mb4")
    # READ COMMITTED: locking reads see the latest committed row; fewer gap locks under load.
    _db["OPTIONS"].setdefault("isolation_level", "read committed")
    _db["OPTIONS"].setdefault("init_command", "SET sql_mode='STRICT_TRANS_TABLES'")
    # A database that is down or hung must cost a request seconds, not forever: a fast 503 instead.
    # read/write bound one wait for the server (not a whole query); this app's queries take milliseconds.
    _db["OPTIONS"].setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=3))
    _db["OPTIONS"].setdefault("read_timeout", env.int("DB_READ_TIMEOUT", default=10))
    _db["OPTIONS"].setdefault("write_timeout", env.int("DB_WRITE_TIMEOUT", default=10))
    _db.setdefault("TEST", {})
    _db["TEST"].setdefault("CHARSET", "utf8mb4")
    _db["TEST"].setdefault("COLLATION", "utf8mb4_unicode_ci")
    # Requests run on SYNC_THREADS long-lived threads (core.serving.WSGIOnThreads), so each process holds at
    # most that many persistent connections (plus one for sockets and one per background job).
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=300)
    _db["CONN_HEALTH_CHECKS"] = True
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    _db.setdefault("OPTIONS", {})
    # One writer at a time: take the write lock at BEGIN so concurrent orders queue instead of failing.
    _db["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    _db["OPTIONS"].setdefault("timeout", 20)
    # A file, not :memory:, so that servers started by the tests (daphne subprocesses) share it.
    _db.setdefault("TEST", {})
    _db["TEST"].setdefault("NAME", str(BASE_DIR / f"test_db_{os.getpid()}.sqlite3"))
    _db["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels and cache ---------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Pub/sub layer: one publish per group, fanned out locally by each process.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env.str("CHANNEL_LAYER_PREFIX", default="pub")},
        }
    }
    CACHES = {
        "default": {
            # django-redis keeps one connection pool per process, whatever thread or context asks.
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="pub"),
            # A stalled Redis must not hold requests: the menu falls back to the database and the rate
            # limits fail open, both on a timeout as on a refused connection.
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            # One channel per group per process (realtime.hub) carries every event of its group, for as
            # long as one socket needs it: room for bursts, and no membership expiring under an open board.
            "CONFIG": {"capacity": 1000, "group_expiry": 30 * 86400},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/kitchen/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- I18N -----------------------------------------------------------------------------------------
LANGUAGE_CODE = "ko-kr"
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # No manifest: pages render without a collectstatic step (dev, tests); the Docker image collects.
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
# Finders serve static/ as it is (uncompressed, and ahead of anything collected): in development, and in
# a process with nothing collected (the tests' servers, `serve only` from a checkout). Once collectstatic
# has run (the Docker image), only the collected files are served, with their .gz/.br versions.
WHITENOISE_USE_FINDERS = DEBUG or not STATIC_ROOT.is_dir()
WHITENOISE_AUTOREFRESH = DEBUG

# --- Request limits -------------------------------------------------------------------------------
MAX_REQUEST_BODY_BYTES = 64 * 1024
# PayAction's deliveries are stored whatever is inside them, nesting of any depth included (CONTRACT.md
# section 6): that one path takes bodies up to 1 MiB (half a million levels of [ ]), every other path 64 KiB.
REQUEST_BODY_BYTES_BY_PATH = {"/api/webhook/payment/": 1024 * 1024}
DATA_UPLOAD_MAX_MEMORY_SIZE = max(MAX_REQUEST_BODY_BYTES, *REQUEST_BODY_BYTES_BY_PATH.values())

# --- DRF ------------------------------------------------------------------------------------------
THROTTLE_ENABLED = env.str("THROTTLE", default="on").lower() not in {"off", "0", "false", "no"}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header turns "no credentials" into a 401.
        "rest_framework.authentication.TokenAuthentication",
        "core.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "config.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "ordering.schema.ApiSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Client IP for rate limits = REMOTE_ADDR, never a client-supplied X-Forwarded-For (behind a proxy,
    # daphne --proxy-headers already puts the proxy's X-Forwarded-For into REMOTE_ADDR).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        # Generous per IP: a festival's phones often share one venue Wi-Fi address.
        "public_write_ip": env.str("THROTTLE_PUBLIC_WRITE_IP", default="1200/min"),
        "public_write_table": env.str("THROTTLE_PUBLIC_WRITE_TABLE", default="240/min"),
        "staff_call": env.str("THROTTLE_STAFF_CALL", default="6/min"),
    },
}

# Failed staff logins (API token and login page) allowed per client address and per username in a window
# (kitchen.logins); THROTTLE=off lifts them with the other limits.
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=30)
LOGIN_FAILURES_PER_USERNAME = env.int("LOGIN_FAILURES_PER_USERNAME", default=10)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=600)

SPECTACULAR_SETTINGS = {
    "TITLE": "Festival pub ordering API",
    "DESCRIPTION": "Menu, tables, orders, kitchen board and pay-first pre-orders. See CONTRACT.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "KitchenStatusEnum": "ordering.models.KitchenStatus",
        "OrderStatusEnum": "ordering.models.OrderStatus",
        "CategoryEnum": "ordering.models.Category",
        "StationEnum": "ordering.models.Station",
    },
}

# --- Product settings -----------------------------------------------------------------------------
DISCORD_WEBHOOK_URL = env.str("DISCORD_WEBHOOK_URL", default="")
DISCORD_CALL_WEBHOOK_URL = env.str("DISCORD_CALL_WEBHOOK_URL", default="") or DISCORD_WEBHOOK_URL
PAYACTION_WEBHOOK_KEY = env.str("PAYACTION_WEBHOOK_KEY", default="")
PAYACTION_MALL_ID = env.str("PAYACTION_MALL_ID", default="")
PAYACTION_API_KEY = env.str("PAYACTION_API_KEY", default="")
PAYACTION_API_URL = env.str("PAYACTION_API_URL", default="https://api.payaction.app").rstrip("/")
BANK_NAME = env.str("BANK_NAME", default="케이뱅크")
BANK_ACCOUNT_NO = env.str("BANK_ACCOUNT_NO", default="")
PRE_ORDER_TTL_MINUTES = env.int("PRE_ORDER_TTL_MINUTES", default=30)
# "required": a table takes orders only after staff open it (CONTRACT.md section 8); "off": never blocks.
TABLE_OPENING = env.str("TABLE_OPENING", default="off").strip().lower()
if TABLE_OPENING not in {"off", "required"}:
    raise ImproperlyConfigured("TABLE_OPENING must be 'off' or 'required'.")
TABLE_OPENING_REQUIRED = TABLE_OPENING == "required"
# Local time at which the night report rolls over to the next business day (a night past midnight is one day).
BUSINESS_DAY_STARTS = env.str("BUSINESS_DAY_STARTS", default="06:00")
try:
    time.fromisoformat(BUSINESS_DAY_STARTS)
except ValueError:
    raise ImproperlyConfigured("BUSINESS_DAY_STARTS must be a local time like 06:00.") from None
KITCHEN_WARN_MINUTES = env.int("KITCHEN_WARN_MINUTES", default=10)
KITCHEN_LATE_MINUTES = env.int("KITCHEN_LATE_MINUTES", default=20)
# Periodic jobs (expiry, Discord and PayAction outboxes) run inside every served process.
BACKGROUND_JOBS = env.bool("BACKGROUND_JOBS", default=True)
BACKGROUND_JOBS_INTERVAL = env.float("BACKGROUND_JOBS_INTERVAL", default=1.0)
# Periodic jobs, each a function run every BACKGROUND_JOBS_INTERVAL seconds (background.jobs).
PERIODIC_JOBS = [
    "payments.services.pre_orders_expire",
    "kitchen.services.discord_alerts_dispatch",
    "kitchen.services.staff_call_alerts_dispatch",
    "payments.services.payaction_registrations_dispatch",
    "core.idempotency.forget_old",
]
# Threads per process running Django's HTTP handling (core.serving.WSGIOnThreads), each with its own
# persistent database connection; more only contend for the interpreter lock, unless requests wait on locks.
SYNC_THREADS = env.int("SYNC_THREADS", default=2)
# Garbage-collector thresholds of the served process (core.serving.tune_gc); Python's own are 700,10,10.
GC_THRESHOLDS = tuple(env.list("GC_THRESHOLDS", cast=int, default=[5_000, 20, 20]))
# Coroutines every served process runs once at start (background.jobs): the event relay, heartbeats, the menu.
PROCESS_TASKS = [
    "realtime.broadcast.start_relay",
    "realtime.heartbeat.start_heartbeats",
    "ordering.menu.follow_changes",
]
# Every socket gets a heartbeat with its feed's latest seq this often (CONTRACT.md section 5).
WS_HEARTBEAT_SECONDS = env.float("WS_HEARTBEAT_SECONDS", default=15.0)
# Changes of one food within this window reach the phones as one food.updated with its latest state.
FOOD_EVENT_SECONDS = env.float("FOOD_EVENT_SECONDS", default=0.5)
# Plain menu reads answered with Django's kept answer while the menu is unchanged (core.serving.KeptAnswers).
MENU_EDGE = env.bool("MENU_EDGE", default=True)
# Bounds how long a menu change made around the app (a seed command, SQL by hand) stays unseen.
MENU_CACHE_SECONDS = env.float("MENU_CACHE_SECONDS", default=2.0)
# Calls to Discord and PayAction: to connect, then to read the answer. A call that reached the service but whose
# answer timed out is sent again and may arrive twice, so the answer is waited for long (a festival's uplink
# is slow at times); a service that cannot be reached is given up on soon.
OUTSIDE_HTTP_TIMEOUT = env.float("OUTSIDE_HTTP_TIMEOUT", default=5.0)
OUTSIDE_HTTP_READ_TIMEOUT = env.float("OUTSIDE_HTTP_READ_TIMEOUT", default=20.0)
# Outboxes (background/outbox.py): a failed call waits BASE * 2**attempts seconds (at most 60) before the next
# one; a claimed row is held this long before another process may take it over (longer than any call).
OUTBOX_BACKOFF_BASE_SECONDS = env.float("OUTBOX_BACKOFF_BASE_SECONDS", default=1.0)
OUTBOX_LEASE_SECONDS = env.float("OUTBOX_LEASE_SECONDS", default=30.0)

# --- Production hardening -------------------------------------------------------------------------
# `manage.py check --deploy` is clean with DEBUG=0, SECURE_SSL_REDIRECT=1 and SECURE_HSTS_SECONDS set
# (tests/deploy, docs/operations.md). TLS ends at the proxy in front (nginx, a tunnel), which must set
# X-Forwarded-Proto on every request it forwards: that header is how Django knows a request was https.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
    # Container health checks call http://127.0.0.1:8000/healthz from inside: never redirect them.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=SECURE_SSL_REDIRECT)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=SECURE_HSTS_SECONDS > 0)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=SECURE_HSTS_SECONDS > 0)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Logging --------------------------------------------------------------------------------------
# One line per event on stderr (the container's log). LOG_FORMAT=json in production: one JSON object a
# line with request_id and the event's fields (order_id, trace_id, event_type, ...); secrets masked.
LOG_FORMAT = env.str("LOG_FORMAT", default="text").lower()
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
# One "request" line per HTTP request from the app (core.serving.RequestLog). On with JSON logs, where the
# container runs daphne without its plain-text access log (docker/entrypoint.sh).
ACCESS_LOG = env.bool("ACCESS_LOG", default=LOG_FORMAT == "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
    "formatters": {
        "text": {
            "()": "core.logging.TextFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s%(extra_fields)s",
        },
        "json": {"()": "core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}
CSRF_FAILURE_VIEW = "config.exceptions.csrf_failure"
APPEND_SLASH = False  # an API path without its slash is a JSON 404, never a redirect that drops a POST body
