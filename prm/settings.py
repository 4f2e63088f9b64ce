"""Settings, read from the environment (12-factor).

The embedded default (nothing set) is a SQLite file, Celery tasks run in-process and e-mail goes
to the console. Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY, ALLOWED_HOSTS and
DEBUG=0; `manage.py check --deploy` passes with those.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-secret-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "prm.common",
    "accounts",
    "mapping",
    "coselling",
    "incentives",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "prm.common.middleware.RejectNulInQueryMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.RequireAdminMFAMiddleware",
    # Last, so that it sees the lockout flag set by the authentication backend.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "prm.urls"
WSGI_APPLICATION = "prm.wsgi.application"

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
                "accounts.context_processors.current_membership",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username/IP before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: e-mail is the login, verified before first use; MFA by TOTP.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[PRM] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "PRM"

ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"

# The client's address (accounts.auth.client_ip) for throttles, lockouts and allauth's rate limits:
# REMOTE_ADDR, unless the app runs behind this many proxies that each append to X-Forwarded-For
# (then the address the outermost one saw). Set it only when every request comes through them.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# django-axes: stop password guessing after a few failures per username and address, and after
# more failures per address across usernames (one address trying many logins; allauth's own limit
# of 10 failures a minute per address would stop counting there). The counts live in the
# database, shared by every worker (accounts.auth.AxesLimitsHandler).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_IP_FAILURE_LIMIT = env.int("AXES_IP_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], ["ip_address"]]
AXES_HANDLER = "accounts.auth.AxesLimitsHandler"
AXES_CLIENT_IP_CALLABLE = "accounts.auth.client_ip"
AXES_USERNAME_CALLABLE = "accounts.auth.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.auth.lockout_response"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="PRM <noreply@localhost>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and env.bool("MANIFEST_STATIC", default=True)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
WHITENOISE_USE_FINDERS = DEBUG

# Request size caps: a clear 413/400 rather than reading anything unbounded.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "prm.common.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "prm.common.schema.ApiAutoSchema",  # documents the error responses too
    "EXCEPTION_HANDLER": "prm.common.exception_handler.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON through the bounded loader (nesting depth, NUL): see prm/common/json_input.py.
    "DEFAULT_PARSER_CLASSES": [
        "prm.common.json_input.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Per client address, counted in the default cache (accounts.auth.ClientAddressThrottle).
    "DEFAULT_THROTTLE_RATES": {"token": env("TOKEN_THROTTLE_RATE", default="20/min")},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
API_TOKEN_TTL = timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=24 * 30))

SPECTACULAR_SETTINGS = {
    "TITLE": "PRM API",
    "DESCRIPTION": "Partner relationship management built around partner account mapping.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # A PATCH body is documented as its serializer says (fields it requires stay required).
    "COMPONENT_SPLIT_PATCH": False,
    # Docs assets are served by the app itself: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OrganizationKindEnum": "accounts.models.Organization.Kind",
        "AccountListKindEnum": "mapping.models.AccountList.Kind",
        "RoleEnum": "accounts.models.Role",
        "StageEnum": "accounts.models.Stage",
        "TierEnum": "accounts.models.Tier",
        "IntroKindEnum": "coselling.models.IntroKind",
    },
}

# Caches. "reads": the overlap matrix and overlap pages, keyed by read stamps that PostgreSQL
# triggers bump with every change to their data (mapping.sharing.read_cache); a change is honoured by the
# next request. Per process by default; READ_CACHE_URL=redis://... shares it between workers.
READ_CACHE = env.bool("READ_CACHE", default=True)
READ_CACHE_SECONDS = env.int("READ_CACHE_SECONDS", default=600)
_READ_CACHE_URL = env("READ_CACHE_URL", default="")
if _READ_CACHE_URL and not _READ_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("READ_CACHE_URL must be a Redis URL (redis://, rediss:// or unix://).")
# "default": rate limits (the token endpoint's throttle, allauth's) and the TOTP codes already used.
# THROTTLE_CACHE_URL=redis://... shares them between all worker processes, as production needs
# (with a per-process cache each worker would count apart); per process only in the embedded default.
_THROTTLE_CACHE_URL = env("THROTTLE_CACHE_URL", default="")
if _THROTTLE_CACHE_URL and not _THROTTLE_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("THROTTLE_CACHE_URL must be a Redis URL (redis://, rediss:// or unix://).")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _THROTTLE_CACHE_URL}
        if _THROTTLE_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"}
    ),
    "reads": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _READ_CACHE_URL,
            "TIMEOUT": READ_CACHE_SECONDS,
        }
        if _READ_CACHE_URL
        else {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "reads",
            "TIMEOUT": READ_CACHE_SECONDS,
            "OPTIONS": {"MAX_ENTRIES": env.int("READ_CACHE_ENTRIES", default=500)},
        }
    ),
}

# Celery: with no broker configured the embedded default runs tasks in-process.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# In-process: the in-memory transport, so that kombu never looks for an AMQP host on localhost.
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker keeps trying to reach a restarted broker instead of exiting after 100 tries, and a task
# that was running when the broker went away runs to its end (match runs are safe to run twice; the
# watchdog below re-sends what a lost connection dropped).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BEAT_SCHEDULE = {
    "expire-invitations": {"task": "accounts.tasks.expire_invitations", "schedule": 3600.0},
    "expire-co-selling": {"task": "coselling.expire_and_remind", "schedule": 3600.0},
}

INVITATION_TTL = timedelta(days=env.int("INVITATION_TTL_DAYS", default=7))

# Security: everything `check --deploy` asks for, on unless DEBUG.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}

# Absolute address of the portal, for links in e-mails.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Matching engine and runs.
MATCH_THRESHOLD = env.float("MATCH_THRESHOLD", default=0.5)
MATCH_REVIEW_THRESHOLD = env.float("MATCH_REVIEW_THRESHOLD", default=0.2)
MATCH_ENGINE_THREADS = env.int("MATCH_ENGINE_THREADS", default=-1)  # -1: all cores
MATCH_DEBOUNCE_SECONDS = env.float("MATCH_DEBOUNCE_SECONDS", default=5.0)  # let bursts of changes fold
# A running run beats every MATCH_HEARTBEAT_SECONDS from a thread of its worker; with no beat for
# MATCH_RUN_STALE_SECONDS its worker is taken as lost. Every worker runs the watchdog every
# MATCH_WATCHDOG_SECONDS (beat also sends it every minute): it re-claims such runs and re-sends queued
# runs MATCH_QUEUED_GRACE_SECONDS past their start time (their message was lost with the broker).
MATCH_HEARTBEAT_SECONDS = env.float("MATCH_HEARTBEAT_SECONDS", default=3.0)
MATCH_RUN_STALE_SECONDS = env.int("MATCH_RUN_STALE_SECONDS", default=15)  # no heartbeat: worker lost
MATCH_WATCHDOG_SECONDS = env.float("MATCH_WATCHDOG_SECONDS", default=5.0)  # 0: not in the workers
MATCH_QUEUED_GRACE_SECONDS = env.int("MATCH_QUEUED_GRACE_SECONDS", default=15)
# A fanned-out run beats only when a worker scores one of its blocks (they may wait in the queue).
MATCH_FANOUT_STALE_SECONDS = env.int("MATCH_FANOUT_STALE_SECONDS", default=300)
# A list pair with at least this many records (both sides) is cut into blocks that a Celery chord
# fans out over all workers.
MATCH_FANOUT_MIN_RECORDS = env.int("MATCH_FANOUT_MIN_RECORDS", default=1_000_000)
MATCH_FANOUT_BLOCKS = env.int("MATCH_FANOUT_BLOCKS", default=8)
# Chords need a result backend; Redis serves as both.
CELERY_RESULT_BACKEND = env(
    "CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else None
)
CELERY_RESULT_EXPIRES = 3600
CELERY_BEAT_SCHEDULE["reap-match-runs"] = {"task": "mapping.tasks.reap_match_runs", "schedule": 60.0}
