"""Settings, read from the environment (django-environ). Every variable is listed in README.md.

DATABASE_URL is required (PostgreSQL; `make demo` and `make test` start an embedded one without
it). Without REDIS_URL a filesystem Celery broker is used, so that a machine with only Python can
start the demo.
Production values are never defaults: with DEBUG off, SECRET_KEY must be set.
"""

from datetime import timedelta
from email.utils import getaddresses
from pathlib import Path

import environ
import pghistory
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="django-insecure-development-only-never-in-production")
else:
    try:
        SECRET_KEY = env("SECRET_KEY")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (50+ random characters), "
            "or set DEBUG=1 for local development."
        ) from exc

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "iwp_licensing.apps.IWPAdminConfig",
    # The audit trail's page; after the admin, whose own "History" button (licenses/admin_base.py)
    # is the one link to it.
    "pghistory.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Trigram indexes for the admin's search (OpClass in an index expression needs its app).
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "pgtrigger",
    "pghistory",
    "django_celery_beat",
    "import_export",
    "ninja",  # the seat API docs page from static files (no CDN)
    "organizations",
    "licenses",
    "seats",
    "notifications",
    "compliance",
    "portal",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before the session: a NUL byte anywhere in a request is a 400, not a database error.
    "iwp_licensing.input_guard.InputGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before every view and the lockout page: they may use request.csp_nonce.
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "iwp_licensing.middleware.HistoryContextMiddleware",
    "seats.middleware.SeatLeaseMiddleware",
    # Last: turns a locked-out login into the lockout page (iwp_licensing/login_throttle.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "iwp_licensing.urls"
WSGI_APPLICATION = "iwp_licensing.wsgi.application"

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

if not env("DATABASE_URL", default=""):
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Set it to a PostgreSQL URL such as "
        "postgres://user:password@host:5432/name, or run `make demo` / `make test`, "
        "which start an embedded PostgreSQL under var/ when it is not set."
    )
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "organizations.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/portal/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
# django-axes first: a locked-out login is refused before any password is hashed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The portal's and the admin's own CSS and JavaScript (static/iwp/), beside the apps' static files.
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
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))

# Redis: cache and Celery broker. Without it, a local memory cache and a filesystem broker.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        # Django's backend, keeping one redis-py client per pool (iwp_licensing/cache.py).
        "default": {"BACKEND": "iwp_licensing.cache.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_ENGINE = "django.contrib.sessions.backends.db"

CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
else:
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    for _d in (_broker_dir, _broker_dir / "processed"):
        _d.mkdir(parents=True, exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# E-mail: EMAIL_URL such as smtp://user:pass@mail.example.com:587/?tls=True
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="iwp-licensing@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# ADMINS="Ann <ann@example.com>,bob@example.com": who receives compliance mail by default.
ADMINS = [
    (name or addr, addr) for name, addr in getaddresses(env.list("ADMINS", default=[])) if addr
]

# Licensing
IWP_LICENSE_PUBLIC_KEYS = env.list("IWP_LICENSE_PUBLIC_KEYS", default=[])
# The demo key (seats/demo_key/) signs the demo license; it is trusted only while developing.
IWP_TRUST_DEMO_KEY = env.bool("IWP_TRUST_DEMO_KEY", default=DEBUG)
IWP_EXPIRY_WARNING_DAYS = env.list("IWP_EXPIRY_WARNING_DAYS", cast=int, default=[30, 7, 1])
# The renewal forecast recommends the projected peak plus this much (compliance/renewal.py).
IWP_RENEWAL_HEADROOM_PERCENT = env.int("IWP_RENEWAL_HEADROOM_PERCENT", default=10)


def parse_alert_thresholds(text: str) -> list[int]:
    """IWP_ALERT_THRESHOLDS: whole percents of a pool's seats in use, 1 to 100, comma-separated
    ("80,90,100"); empty: no alerts. Raises ImproperlyConfigured saying what is wrong."""
    thresholds = []
    for part in (p.strip().rstrip("%").strip() for p in text.split(",")):
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 100:
            raise ImproperlyConfigured(
                f"IWP_ALERT_THRESHOLDS: {part!r} is not a whole percent from 1 to 100; "
                'write e.g. "80,90,100", or leave it empty for no alerts.'
            )
        thresholds.append(int(part))
    if len(set(thresholds)) != len(thresholds):
        raise ImproperlyConfigured(
            f"IWP_ALERT_THRESHOLDS: {text!r} names a threshold twice; name each once."
        )
    return sorted(thresholds)


# Utilisation alerts: a pool (and an organization's capped share of one) reaching each of these
# percents of its seats for the first time in a day is recorded, logged and mailed once.
IWP_ALERT_THRESHOLDS = parse_alert_thresholds(env("IWP_ALERT_THRESHOLDS", default="80,90,100"))
IWP_CONCURRENT_IDLE_MINUTES = env.int("IWP_CONCURRENT_IDLE_MINUTES", default=30)
IWP_ALLOW_PARALLEL_SESSIONS = env.bool("IWP_ALLOW_PARALLEL_SESSIONS", default=False)
# Seat API (/api/v1/): a lease lives this long without a heartbeat (clients beat every half of
# it); requests per API key, as N/s, N/m or N/h.
IWP_API_LEASE_SECONDS = env.int("IWP_API_LEASE_SECONDS", default=600)
IWP_API_RATE_LIMIT = env("IWP_API_RATE_LIMIT", default="100/s")
# Login and logout statements run as prepared statements (seats/sql.py); 0 behind a pooler
# that cannot keep them.
IWP_PREPARED_STATEMENTS = env.bool("IWP_PREPARED_STATEMENTS", default=True)
# Outbox (notifications): retry backoff base × 2^(attempt-1) seconds, capped; SMTP timeout.
IWP_OUTBOX_RETRY_BASE_SECONDS = env.int("IWP_OUTBOX_RETRY_BASE_SECONDS", default=30)
IWP_OUTBOX_RETRY_MAX_SECONDS = env.int("IWP_OUTBOX_RETRY_MAX_SECONDS", default=3600)
IWP_OUTBOX_SMTP_TIMEOUT = env.int("IWP_OUTBOX_SMTP_TIMEOUT", default=30)
# Invitations to choose a password (users created without one): how long a link works, and the
# address links in mail start with (empty: the address the administrator's request came to).
IWP_INVITATION_DAYS = env.int("IWP_INVITATION_DAYS", default=7)
IWP_SITE_URL = env("IWP_SITE_URL", default="")

# Login throttling (django-axes), on the portal's and the admin's login: after
# IWP_LOGIN_FAILURE_LIMIT wrong passwords for one username from one address, that pair is refused
# for IWP_LOGIN_LOCKOUT_MINUTES after the last failure; other users and addresses are not.
# Administrators see and clear lockouts in the admin (Axes > Access attempts), or run
# `manage.py axes_reset_username NAME`.
AXES_USERNAME_CALLABLE = "iwp_licensing.login_throttle.attempted_username"
AXES_FAILURE_LIMIT = env.int("IWP_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("IWP_LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Attempts while locked are refused but do not move the time the page names.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "iwp_licensing.login_throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "iwp_licensing.login_throttle.client_address"
# Successful logins are not logged again: the seat leases and Django's last_login record them,
# and the login path stays short.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False  # no banner on every manage.py command and worker start
# The number of proxies in front that append the client's address to X-Forwarded-For; 0 (the
# default) ignores the header, which anyone can send.
IWP_PROXY_COUNT = env.int("IWP_PROXY_COUNT", default=0)

# Security: on by default whenever DEBUG is off.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("SECURE_PROXY_SSL", default=not DEBUG) else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# Secure cookies whenever DEBUG is off, whoever redirects to HTTPS: behind a TLS proxy that does
# the redirect itself, SECURE_SSL_REDIRECT is 0 and the cookies must still never travel in clear.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts, styles and everything else from this site only;
# an inline <script> or <style> runs only with the response's nonce
# (nonce="{{ request.csp_nonce }}"), an inline style="" attribute never. No plugins, no framing,
# no <base> elsewhere, forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Permissions-Policy (django-permissions-policy): the license pages need no device or sensor.
# (Screen wake lock stays allowed: a wallboard may want it.)
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# Audit trail (django-pghistory): PostgreSQL triggers on the licensed tables record every change;
# the models say what is tracked (@pghistory.track). The admin lists events with who and where.
PGHISTORY_ADMIN_MODEL = "pghistory.MiddlewareEvents"
# The context (who, URL, address) is stored in each event row: no second row per change, which
# matters on the login and logout paths.
PGHISTORY_CONTEXT_FIELD = pghistory.ContextJSONField()
PGHISTORY_ADMIN_CLASS = "iwp_licensing.admin_history.HistoryAdmin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # Compliance records carry server/license/method/licensed/found fields (compliance/log.py).
        "compliance": {
            "()": "compliance.log.StructuredFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "json": env.bool("COMPLIANCE_LOG_JSON", default=False),
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "compliance_console": {"class": "logging.StreamHandler", "formatter": "compliance"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "iwp_licensing.compliance": {
            "handlers": ["compliance_console"],
            "level": "INFO",
            "propagate": False,
        },
        # Utilisation alerts (seats/services/alerts.py), with the same structured fields.
        "iwp_licensing.alerts": {
            "handlers": ["compliance_console"],
            "level": "INFO",
            "propagate": False,
        },
    },
}
