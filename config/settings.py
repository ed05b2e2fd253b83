"""Settings, all from environment variables with safe embedded defaults.

Unset, the platform runs on a SQLite file under var/, a Celery broker that needs no server (a
spool directory under var/), and the in-process MQTT broker; set DATABASE_URL, CELERY_BROKER_URL
and MQTT_URL to run it at scale on PostgreSQL, Redis and Mosquitto.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("FLEET_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or env_bool("FLEET_OFFLINE_COMMAND")):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off "
                                   "(see deploy/env.example)")
    # With DEBUG a fixed development key (sessions survive a demo restart); for a command that
    # signs nothing (manage.py OFFLINE_COMMANDS) a throwaway one.
    SECRET_KEY = ("insecure-development-key-only-used-with-DEBUG-on" if DEBUG
                  else secrets.token_urlsafe(50))
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

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
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "meters",
    "meters.telemetry",
    "meters.alarms",
    "meters.audit",
    "meters.jobs",
    "meters.relays",
    "tariffs",
    "provisioning",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After authentication: who and from where, for every audit record a request writes.
    "meters.audit.context.AuditContextMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
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
                "meters.navigation.navigation",
                "meters.time_views.time_zone_context",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'fleet.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The demo runs web, worker, beat and ingest on one SQLite file: wait for locks, don't fail.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["accounts.backends.ThrottledModelBackend"]
# Log-in lockout: this many failures per user name, or per client address, lock log-in for
# LOGIN_LOCKOUT_S seconds (even with the right password); reset mails per hour likewise.
LOGIN_FAILURES_PER_USER = 5
LOGIN_FAILURES_PER_IP = 20
LOGIN_LOCKOUT_S = 15 * 60
PASSWORD_RESET_PER_EMAIL = 3
PASSWORD_RESET_PER_IP = 10
# The reverse proxies whose X-Forwarded-For names the client (audit trail, per-address limits).
TRUSTED_PROXY_IPS = env_list("TRUSTED_PROXY_IPS", "127.0.0.1,::1")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True  # stored times are UTC; meter clocks are local and converted explicitly

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request while it is missing
# htmx and Chart.js come from npm (package.json) and are served as our own static files.
_NPM = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", _NPM / "htmx.org" / "dist"),
    ("vendor/chartjs", _NPM / "chart.js" / "dist"),
    ("vendor/luxon", _NPM / "luxon" / "build" / "global"),
    ("vendor/chartjs-adapter-luxon", _NPM / "chartjs-adapter-luxon" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Services raise Django's ValidationError; this turns it into a 400 in one place.
    "EXCEPTION_HANDLER": "meters.api.errors.api_exception_handler",
    # Bodies are parsed by our guarded parsers: bounded size and nesting, no NUL characters.
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.GuardedJSONParser",
        "config.parsers.GuardedFormParser",
        "config.parsers.GuardedMultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {"channel-test": "5/min", "channel-test-channel": "5/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "KPM Fleet API",
    "DESCRIPTION": "Fleet management for Compere KPM37 meters",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and the docs are for people with a role, like the API itself.
    "SERVE_PERMISSIONS": ["meters.api.permissions.HasAnyRole"],
}

# Celery: Redis at scale; by default a spool-directory broker that needs no server but still
# runs a real worker process (eager mode would not be a test of anything).
_SPOOL = VAR_DIR / "celery-spool"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    for sub in ("out", "processed", "control"):
        (_SPOOL / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_SPOOL / "out"),
        "data_folder_out": str(_SPOOL / "out"),
        "data_folder_processed": str(_SPOOL / "processed"),
        "store_processed": False,
        "control_folder": str(_SPOOL / "control"),
    }
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
REDIS_URL = env_str("REDIS_URL", "")
# Login lockouts, password-reset and test-button rate limits are counted in the cache: Redis
# when REDIS_URL is set (every web process counts together), else this process's memory.
CACHES = {"default": (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
     "KEY_PREFIX": "kpm-fleet"} if REDIS_URL else
    {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"})}

MQTT_URL = env_str("MQTT_URL", "mqtt://127.0.0.1:1883")
# Poll (Modbus) / expected upload (MQTT) interval of a meter added without one (CSV, API, adopt).
METER_DEFAULT_POLL_INTERVAL_S = env_int("METER_DEFAULT_POLL_INTERVAL_S", 300)

# Telemetry and alarms (meters/telemetry/conf.py says what each means).
TELEMETRY_RETENTION_DAYS = env_int("TELEMETRY_RETENTION_DAYS", 400)
TELEMETRY_CLOCK_TOLERANCE_S = env_int("TELEMETRY_CLOCK_TOLERANCE_S", 300)
TELEMETRY_OFFLINE_INTERVALS = env_int("TELEMETRY_OFFLINE_INTERVALS", 3)
TELEMETRY_MAX_MESSAGE_BYTES = env_int("TELEMETRY_MAX_MESSAGE_BYTES", 65536)
TELEMETRY_DEAD_LETTER_MAX_BYTES = env_int("TELEMETRY_DEAD_LETTER_MAX_BYTES", 16384)
TELEMETRY_FUTURE_TOLERANCE_S = env_int("TELEMETRY_FUTURE_TOLERANCE_S", 900)
TELEMETRY_MAX_EXTRA_TAGS = env_int("TELEMETRY_MAX_EXTRA_TAGS", 64)
TELEMETRY_COUNTER_JUMP_MARGIN = env_int("TELEMETRY_COUNTER_JUMP_MARGIN", 2)

# Meter jobs (docs/jobs.md). The meters' write password (the KPM37 default is 6666) is added to
# a write that needs it; JOBS_LEASE_S is how long a silent owner keeps a running job.
METER_PASSWORD = env_int("METER_PASSWORD", 6666)
JOBS_LEASE_S = env_int("JOBS_LEASE_S", 15)
JOBS_PICKUP_S = float(env_str("JOBS_PICKUP_S", "0.05"))
JOBS_PER_BUS = env_int("JOBS_PER_BUS", 4)
JOBS_MQTT_REPLY_TIMEOUT_S = env_int("JOBS_MQTT_REPLY_TIMEOUT_S", 10)
# Relay control (meters.relays): group commands above this size need the count typed back and
# a second operator's approval; they go out at a bounded rate; a command expires after its TTL.
RELAY_GROUP_APPROVAL_ABOVE = env_int("RELAY_GROUP_APPROVAL_ABOVE", 5)
RELAY_GROUP_RATE_PER_MINUTE = env_int("RELAY_GROUP_RATE_PER_MINUTE", 30)
RELAY_COMMAND_TTL_S = env_int("RELAY_COMMAND_TTL_S", 600)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "kpm-fleet@localhost")
# Webhook hosts an admin allows although they resolve to a private or loopback address.
ALARM_WEBHOOK_ALLOWED_HOSTS = env_list("ALARM_WEBHOOK_ALLOWED_HOSTS")

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
