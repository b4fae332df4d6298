"""Django settings for Commonplace, read from environment variables.

The README lists every variable. Secrets have a default only when DEBUG is on.
"""

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from commonplace.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    parse_database_url,
)
from commonplace.logs import build_logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", False)

_DEVELOPMENT_SECRET = "development-only-secret-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _DEVELOPMENT_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set: set it to a long random string, or set DEBUG=1 "
        "to use the development key."
    )

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Search uses its full-text field and GIN index; inert on SQLite.
    "django.contrib.postgres",
    # With "ninja" installed, django-ninja (1.7.1, ninja/openapi/docs.py)
    # renders /api/docs from its own static copy of Swagger UI instead of
    # loading it from cdn.jsdelivr.net.
    "ninja",
    "core",
    "accounts",
    "reconciliation",
    "imports",
    "practice",
    "communities",
    "social",
    "library",
    "answers",
    "notifications",
    "assist",
    "search",
    "demo",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "assist.embedding.HelpCorsMiddleware",
    # Before the CSRF check, which reads the body of a POST.
    "core.request_limits.RequestBodyLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "commonplace.urls"
WSGI_APPLICATION = "commonplace.wsgi.application"
ASGI_APPLICATION = "commonplace.asgi.application"

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
                "notifications.context_processors.unread_notifications",
                "search.context_processors.search_limits",
            ],
        },
    },
]

_database = parse_database_url(
    "DATABASE_URL",
    env_str("DATABASE_URL", "sqlite:///var/commonplace.sqlite3"),
    base_dir=BASE_DIR,
)
# WAL lets readers run while one writer commits. IMMEDIATE takes the write
# lock at BEGIN, so two writers queue instead of failing with "database is
# locked" half-way through a transaction. Each connection keeps up to
# 16,000 KiB of pages (SQLite's default is 2,000 KiB), so a help panel's
# few hundred items stay cached between requests (docs/benchmarks.md).
SQLITE_OPTIONS: dict[str, Any] = {
    "init_command": (
        "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
        "PRAGMA cache_size=-16000;"
    ),
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
DATABASES: dict[str, dict[str, Any]]
if _database.engine.endswith("sqlite3"):
    DATABASES = {
        "default": {
            "ENGINE": _database.engine,
            "NAME": _database.name,
            "OPTIONS": dict(SQLITE_OPTIONS),
            "TEST": {"NAME": None},
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": _database.engine,
            "NAME": _database.name,
            "USER": _database.user,
            "PASSWORD": _database.password,
            "HOST": _database.host,
            "PORT": _database.port,
            # Parameters are bound on the server, and a statement run five
            # times on a connection is prepared, so PostgreSQL parses and
            # plans it once (docs/architecture.md, "Prepared statements").
            "OPTIONS": {
                "server_side_binding": True,
                "prepare_threshold": (
                    5 if env_bool("DATABASE_PREPARED_STATEMENTS", True) else None
                ),
                **(_database.options or {}),
            },
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            "CONN_HEALTH_CHECKS": True,
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# Django's model backend and database sessions, each with its per-request
# read as one statement compiled once (docs/sign-in.md, "Reading the
# signed-in person").
AUTHENTICATION_BACKENDS = ["accounts.backends.AccountBackend"]
SESSION_ENGINE = "core.sessions"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATORS}.MinimumLengthValidator"},
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# Rendered dates are ISO (2026-12-06), as messages, imports and exports
# write them, instead of the English locale's "Dec. 6, 2026".
FORMAT_MODULE_PATH = ["commonplace.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads go to local disk under MEDIA_ROOT, or with FILE_STORAGE=s3 to an
# S3-compatible bucket through django-storages (docs/library.md).
FILE_STORAGE = env_choice("FILE_STORAGE", "filesystem", ("filesystem", "s3"))
if FILE_STORAGE == "s3":
    S3_BUCKET = env_str("S3_BUCKET", "")
    if not S3_BUCKET:
        raise ImproperlyConfigured(
            "FILE_STORAGE=s3 needs S3_BUCKET: set it to the bucket's name, or "
            "set FILE_STORAGE=filesystem."
        )
    _DEFAULT_STORAGE: dict[str, Any] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("S3_REGION", "") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY", "") or None,
            # Files are served through the app, which checks who may read
            # them, so the bucket stays private and names never collide.
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Django's cache: the help panels and the sign-in and password reset counts.
# Empty keeps it in each process's memory. A redis:// URL shares it between
# processes, which the rate limits need once there is more than one.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        f"CACHE_URL={CACHE_URL!r} is not a Redis URL: use redis://host:port/db, "
        "rediss:// for TLS or unix:///path/to/redis.sock, or unset it to keep "
        "the cache in each process's memory."
    )
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Proxies in front of the web processes that append the client's address to
# X-Forwarded-For. 0 uses the connection's address (REMOTE_ADDR).
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0, minimum=0)
# Failed sign-ins allowed per client address and per username in a window
# of this many seconds, and password reset requests per client address and
# per e-mail address in theirs (docs/sign-in.md).
SIGN_IN_ADDRESS_RATE_LIMIT = env_int("SIGN_IN_ADDRESS_RATE_LIMIT", 30, minimum=1)
SIGN_IN_ACCOUNT_RATE_LIMIT = env_int("SIGN_IN_ACCOUNT_RATE_LIMIT", 10, minimum=1)
SIGN_IN_RATE_WINDOW_SECONDS = env_int("SIGN_IN_RATE_WINDOW_SECONDS", 900, minimum=1)
# Failed sign-ins allowed per device cookie, from a browser that signed in to
# the account before, and the days such a cookie stays valid.
SIGN_IN_DEVICE_RATE_LIMIT = env_int("SIGN_IN_DEVICE_RATE_LIMIT", 10, minimum=1)
SIGN_IN_DEVICE_COOKIE_DAYS = env_int("SIGN_IN_DEVICE_COOKIE_DAYS", 180, minimum=1)
PASSWORD_RESET_ADDRESS_RATE_LIMIT = env_int(
    "PASSWORD_RESET_ADDRESS_RATE_LIMIT", 10, minimum=1
)
PASSWORD_RESET_ACCOUNT_RATE_LIMIT = env_int(
    "PASSWORD_RESET_ACCOUNT_RATE_LIMIT", 3, minimum=1
)
PASSWORD_RESET_RATE_WINDOW_SECONDS = env_int(
    "PASSWORD_RESET_RATE_WINDOW_SECONDS", 3600, minimum=1
)

LOGGING = build_logging_config(
    log_format=env_choice("LOG_FORMAT", "text", ("text", "json")),
    level=env_choice(
        "LOG_LEVEL", "INFO", ("debug", "info", "warning", "error")
    ).upper(),
)

# Commonplace's own settings.
COMMONPLACE_COMPANY_NAME = env_str("COMPANY_NAME", "Company X")
# Payment differences at or below this amount (in the invoice currency) are
# written off automatically instead of opening a case.
RECONCILIATION_PAYMENT_TOLERANCE = env_str("RECONCILIATION_PAYMENT_TOLERANCE", "0.01")
# Days after the promised date before an unshipped line or a late shipment is
# reported.
RECONCILIATION_LATE_DAYS = env_int("RECONCILIATION_LATE_DAYS", 0, minimum=0)
# On PostgreSQL the matching pass checks the orders of a company with at
# least RECONCILIATION_PASS_WORKER_MIN_ORDERS orders in this many processes
# at once. With 1, every pass runs in one process (docs/reconciliation.md).
RECONCILIATION_PASS_WORKERS = env_int("RECONCILIATION_PASS_WORKERS", 2, minimum=1)
RECONCILIATION_PASS_WORKER_MIN_ORDERS = env_int(
    "RECONCILIATION_PASS_WORKER_MIN_ORDERS", 20_000, minimum=1
)
HELP_PANEL_LIMIT = env_int("HELP_PANEL_LIMIT", 5, minimum=1)
# Origins (scheme://host[:port]) of tools that may frame the help panel and
# read the help endpoint with an API token; see docs/embedding.md.
HELP_EMBED_ORIGINS = env_list("HELP_EMBED_ORIGINS", [])
# A super-user's "available" status without an end time lasts this long.
HELP_AVAILABILITY_HOURS = env_int("HELP_AVAILABILITY_HOURS", 8, minimum=1)
# A question asked from a screen goes to the community when no answer came
# within this time, to at most this many of its members.
ASK_ESCALATE_AFTER_MINUTES = env_int("ASK_ESCALATE_AFTER_MINUTES", 120, minimum=1)
ASK_ESCALATION_MAX_RECIPIENTS = env_int("ASK_ESCALATION_MAX_RECIPIENTS", 200, minimum=1)
# Q&A and FAQ curation (docs/answers.md).
ANSWERS_FAQ_REVIEW_DAYS = env_int("ANSWERS_FAQ_REVIEW_DAYS", 180, minimum=1)
ANSWERS_UNANSWERED_AFTER_HOURS = env_int(
    "ANSWERS_UNANSWERED_AFTER_HOURS", 24, minimum=1
)
ANSWERS_SUGGESTION_LIMIT = env_int("ANSWERS_SUGGESTION_LIMIT", 5, minimum=1)
ANSWERS_PAGE_SIZE = env_int("ANSWERS_PAGE_SIZE", 25, minimum=1)
# Days a discrepancy case has, by severity, before it is overdue. The due time
# is the end of that local day in the company's timezone.
RECONCILIATION_CASE_DUE_DAYS = {
    "high": env_int("RECONCILIATION_DUE_DAYS_HIGH", 1, minimum=1),
    "medium": env_int("RECONCILIATION_DUE_DAYS_MEDIUM", 3, minimum=1),
    "low": env_int("RECONCILIATION_DUE_DAYS_LOW", 10, minimum=1),
}
# A write-off above this amount (in the case's currency) needs an approver who
# is not the requester. At or below it the clerk resolves the case directly.
RECONCILIATION_WRITE_OFF_LIMIT = env_str("RECONCILIATION_WRITE_OFF_LIMIT", "50.00")
# A credit note a sales rep proposes above this amount (in the company
# currency) needs a manager's approval before the customer sees it.
SALES_REP_CREDIT_LIMIT = env_str("SALES_REP_CREDIT_LIMIT", "250.00")
# The largest evidence file a customer may attach to a problem report.
PORTAL_MAX_EVIDENCE_BYTES = env_int(
    "PORTAL_MAX_EVIDENCE_BYTES", 10 * 1024 * 1024, minimum=1
)
# A problem report request larger than this gets 413 before its body is
# read. The default fits five evidence files at the limit above and 1 MiB
# of form fields.
PORTAL_MAX_REQUEST_BYTES = env_int(
    "PORTAL_MAX_REQUEST_BYTES",
    5 * PORTAL_MAX_EVIDENCE_BYTES + 1024 * 1024,
    minimum=1,
)
# Imports of order-to-cash files (docs/imports.md): the largest file in
# bytes, the most data rows a file may have, and the rows a preview shows.
IMPORT_MAX_FILE_BYTES = env_int("IMPORT_MAX_FILE_BYTES", 10 * 1024 * 1024, minimum=1)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 20_000, minimum=1)
# The maximum number of blank lines in a CSV file (rows of empty cells
# included) or of empty rows in an XLSX sheet. The line limit counts every
# line of a CSV file, blank lines and the lines inside quoted cells too.
IMPORT_MAX_BLANK_LINES = env_int("IMPORT_MAX_BLANK_LINES", 10_000, minimum=0)
IMPORT_MAX_LINES = env_int("IMPORT_MAX_LINES", 5 * IMPORT_MAX_ROWS, minimum=2)
IMPORT_PREVIEW_ROWS = env_int("IMPORT_PREVIEW_ROWS", 20, minimum=1)
# An upload request body larger than this gets 413 before it is read.
IMPORT_MAX_REQUEST_BYTES = env_int(
    "IMPORT_MAX_REQUEST_BYTES", IMPORT_MAX_FILE_BYTES + 1024 * 1024, minimum=1
)
# Uploads wait here between preview and commit, named by their SHA-256.
IMPORT_STAGING_DIR = Path(env_str("IMPORT_STAGING_DIR", str(VAR_DIR / "imports")))
# Run the matching pass for the company after each committed import.
IMPORT_RUN_MATCHING = env_bool("IMPORT_RUN_MATCHING", True)
# A post or comment that mentions more distinct people than this is rejected.
SOCIAL_MAX_MENTIONS = env_int("SOCIAL_MAX_MENTIONS", 10, minimum=1)
# People one author may notify by mentions within the window, in minutes.
SOCIAL_MENTION_RATE_LIMIT = env_int("SOCIAL_MENTION_RATE_LIMIT", 50, minimum=1)
SOCIAL_MENTION_RATE_WINDOW_MINUTES = env_int(
    "SOCIAL_MENTION_RATE_WINDOW_MINUTES", 60, minimum=1
)
# Publishing the same post again within this many seconds (a double click or
# a retried request) returns the earlier post instead of a copy.
SOCIAL_DUPLICATE_POST_SECONDS = env_int("SOCIAL_DUPLICATE_POST_SECONDS", 30, minimum=0)
# Comments (replies included) shown per page of a post's thread.
SOCIAL_COMMENTS_PAGE_SIZE = env_int("SOCIAL_COMMENTS_PAGE_SIZE", 50, minimum=1)
# Images and files a post may carry, each at most this many bytes.
SOCIAL_MAX_ATTACHMENTS = env_int("SOCIAL_MAX_ATTACHMENTS", 4, minimum=0)
SOCIAL_MAX_ATTACHMENT_BYTES = env_int(
    "SOCIAL_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024, minimum=1
)
# The site-wide cap on a request body, in bytes, for every view without a
# larger cap of its own (library, imports and portal uploads have one).
# A larger body gets 413 before it is read (core/request_limits.py). The
# default fits the largest ordinary form, a post with every attachment at
# its limit, plus 1 MiB for the form fields.
MAX_REQUEST_BODY_BYTES = env_int(
    "MAX_REQUEST_BODY_BYTES",
    SOCIAL_MAX_ATTACHMENTS * SOCIAL_MAX_ATTACHMENT_BYTES + 1024 * 1024,
    minimum=1,
)
# Library upload limits, in bytes unless named otherwise. Files are stored
# through default_storage; S3-compatible storage is a STORAGES change.
LIBRARY_MAX_DOCUMENT_BYTES = env_int(
    "LIBRARY_MAX_DOCUMENT_BYTES", 50 * 1024 * 1024, minimum=1
)
LIBRARY_MAX_VIDEO_BYTES = env_int(
    "LIBRARY_MAX_VIDEO_BYTES", 2 * 1024 * 1024 * 1024, minimum=1
)
LIBRARY_MAX_PACKAGE_BYTES = env_int(
    "LIBRARY_MAX_PACKAGE_BYTES", 500 * 1024 * 1024, minimum=1
)
LIBRARY_MAX_POSTER_BYTES = env_int(
    "LIBRARY_MAX_POSTER_BYTES", 5 * 1024 * 1024, minimum=1
)
# The maximum number of pixels an uploaded image may decode to, all frames
# counted. A larger one (a decompression bomb) is rejected before decoding.
LIBRARY_MAX_IMAGE_PIXELS = env_int("LIBRARY_MAX_IMAGE_PIXELS", 25_000_000, minimum=1)
# A request body larger than this gets 413 before it is read.
LIBRARY_MAX_REQUEST_BYTES = env_int(
    "LIBRARY_MAX_REQUEST_BYTES",
    LIBRARY_MAX_VIDEO_BYTES + LIBRARY_MAX_POSTER_BYTES + 1024 * 1024,
    minimum=1,
)
# Limits on a demo package's contents, checked while it is extracted.
LIBRARY_PACKAGE_MAX_ENTRIES = env_int("LIBRARY_PACKAGE_MAX_ENTRIES", 10_000, minimum=1)
LIBRARY_PACKAGE_MAX_UNCOMPRESSED_BYTES = env_int(
    "LIBRARY_PACKAGE_MAX_UNCOMPRESSED_BYTES", 2 * 1024 * 1024 * 1024, minimum=1
)
# Uncompressed bytes per byte of zip file, applied past the first MiB.
LIBRARY_PACKAGE_MAX_RATIO = env_int("LIBRARY_PACKAGE_MAX_RATIO", 100, minimum=1)
# Folder levels an entry path may have, the file name included.
LIBRARY_PACKAGE_MAX_DEPTH = env_int("LIBRARY_PACKAGE_MAX_DEPTH", 16, minimum=1)
LIBRARY_PAGE_SIZE = env_int("LIBRARY_PAGE_SIZE", 25, minimum=1)

# Background work (docs/background.md): "inline" runs tasks in this process
# after each commit, "celery" sends them to Celery workers through Redis.
BACKGROUND_BACKEND = env_choice("BACKGROUND_BACKEND", "inline", ("inline", "celery"))
# Seconds an inline retry waits at most, because the request waits with it.
BACKGROUND_INLINE_MAX_RETRY_DELAY = env_int(
    "BACKGROUND_INLINE_MAX_RETRY_DELAY", 1, minimum=0
)
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
if not CELERY_BROKER_URL.startswith(("redis://", "rediss://", "redis+socket://")):
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL is not a Redis URL: use redis://host:port/db, "
        "rediss:// for TLS or redis+socket:///path/to/redis.sock."
    )
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers log through LOGGING above, like the web processes.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# E-mail goes through Django's default mailer. The variables keep the names
# of Django's old EMAIL_* settings, which Django 6.1 deprecates for MAILERS.
_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
_EMAIL_BACKEND = env_str("EMAIL_BACKEND", _SMTP_BACKEND)
_EMAIL_HOST = env_str("EMAIL_HOST", "")
_SMTP_OPTIONS: dict[str, Any] = {
    "host": _EMAIL_HOST,
    "port": env_int("EMAIL_PORT", 25, minimum=1),
    "username": env_str("EMAIL_HOST_USER", ""),
    "password": env_str("EMAIL_HOST_PASSWORD", ""),
    "use_tls": env_bool("EMAIL_USE_TLS", False),
    "use_ssl": env_bool("EMAIL_USE_SSL", False),
    # Seconds to wait for the SMTP server before the send fails and is retried.
    "timeout": env_int("EMAIL_TIMEOUT", 10, minimum=1),
}
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": _SMTP_OPTIONS if _EMAIL_BACKEND == _SMTP_BACKEND else {},
    }
}
DEFAULT_FROM_EMAIL = env_str(
    "DEFAULT_FROM_EMAIL", "Commonplace <commonplace@localhost>"
)
# Notifications are also e-mailed when this is on: by default when an SMTP
# host is configured.
NOTIFICATION_EMAILS = env_bool("NOTIFICATION_EMAILS", bool(_EMAIL_HOST))
# The address people open Commonplace at; links in e-mail start with it.
COMMONPLACE_BASE_URL = env_str(
    "BASE_URL", "http://127.0.0.1:8000" if DEBUG else ""
).rstrip("/")
if NOTIFICATION_EMAILS and not COMMONPLACE_BASE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        f"BASE_URL={COMMONPLACE_BASE_URL!r} is not an http:// or https:// "
        "address, and notification e-mail needs it for links: set it to the "
        "address people open Commonplace at, e.g. https://learn.example.com."
    )
if NOTIFICATION_EMAILS and _EMAIL_BACKEND == _SMTP_BACKEND and not _EMAIL_HOST:
    raise ImproperlyConfigured(
        "NOTIFICATION_EMAILS is on but EMAIL_HOST is not set: set it to the "
        "SMTP server's host name, or turn NOTIFICATION_EMAILS off."
    )
# The maximum search query length in characters, for every search box and
# the API. Longer input is cut, and the page shows a message about it.
SEARCH_MAX_QUERY_LENGTH = env_int("SEARCH_MAX_QUERY_LENGTH", 256, minimum=16)
# Search results per page, on the search page and in the API.
SEARCH_PAGE_SIZE = env_int("SEARCH_PAGE_SIZE", 20, minimum=1)
# Characters of an entry's title, body and tags that search indexes (each
# cut at a word). The stored item keeps its whole text. Building a hit's
# snippet takes time in proportion to this length (docs/search.md).
SEARCH_MAX_INDEXED_CHARACTERS = env_int(
    "SEARCH_MAX_INDEXED_CHARACTERS", 20_000, minimum=1_000
)
# A search ranks and counts only this many of its newest visible matches
# and shows "N+" beyond them (docs/search.md explains the window).
SEARCH_CANDIDATE_LIMIT = env_int("SEARCH_CANDIDATE_LIMIT", 1000, minimum=20)
