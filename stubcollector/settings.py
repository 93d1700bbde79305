"""Stub Collector settings: one module, every value from the environment.

Development defaults are safe to run on a laptop (SQLite under var/, local-memory cache,
console email, the offline Stripe sandbox). Production values come only from the
environment; with DEBUG=false a missing SECRET_KEY is an error, not a fallback.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from core.storage_settings import local_storages, s3_storages
from core.stripe_keys import stripe_key_livemode

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"
SECRET_KEY = env("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else None)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Django's admin, arranged for staff work (core/admin_site.py).
    "core.admin_site.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "djstripe",
    # Installed (not only imported) so its cache checks run: see SILENCED_SYSTEM_CHECKS below.
    "django_ratelimit",
    "csp",
    "core.apps.CoreConfig",
    "accounts",
    "marketplace",
    "payments",
    "ratings",
    "disputes",
    "connect",
    "messaging",
    "offers",  # buyers' offers and sellers' answers (beside messaging, above payments)
    "problems",  # buyers' problem reports and buyer protection (above messaging and disputes)
    "reconciliation",  # our books against Stripe's (above the payment apps, below demo)
    "demo",  # demo data (seed_demo); it builds on every other app and none imports it
]

MIDDLEWARE = [
    # First: a request id for everything below (logs, tasks), one JSON log line and metrics.
    "core.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # django-csp, plus the Stripe origins of the Stripe settings in force (core/csp.py).
    "core.csp.StripeCSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.DomainErrorMiddleware",
    # CHECKOUT_ENABLED=false: the payment routes answer 503 (payments/checkout_pause.py).
    "payments.checkout_pause.CheckoutPauseMiddleware",
    # Turns django-ratelimit's Ratelimited (a PermissionDenied) into RATELIMIT_VIEW's 429.
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "stubcollector.urls"
WSGI_APPLICATION = "stubcollector.wsgi.application"

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
                "core.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections (one per gunicorn thread / Celery process), checked before reuse so a
# restarted PostgreSQL costs one reconnect, not an error. 0 closes after each request.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that does not answer fails a request (and /readyz) in seconds, not in the
    # driver's default of minutes. libpq's minimum is 2 seconds.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=2)
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent dev requests (webhooks arriving while a page renders) wait for the write lock
    # instead of failing with "database is locked": IMMEDIATE takes it when a transaction begins.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://stubcollector")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Django's RedisCache whose rate-limit counters count in the process while Redis cannot be
    # reached, so no limited route answers 500 in a Redis outage (core/rate_limit_cache.py says
    # why counting locally, not failing open or closed).
    CACHES["default"]["BACKEND"] = "core.rate_limit_cache.RedisCache"
    # A Redis that does not answer costs a request (and /readyz) this long, not a hang.
    _cache_timeout = env.float("CACHE_SOCKET_TIMEOUT", default=1.0)
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": _cache_timeout, "socket_timeout": _cache_timeout}
    )
# Anonymous browse, listing and seller pages are cached this long, and served only while no
# listing or seller they show has changed (marketplace/page_cache.py); 0 turns it off.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=30)
_XDIST_WORKER = env("PYTEST_XDIST_WORKER", default="")  # gw0, gw1… under `pytest -n`
if _XDIST_WORKER and CACHES["default"]["BACKEND"] == "core.rate_limit_cache.RedisCache":
    # Tests clear the cache between tests (FLUSHDB on Redis) and count rate limits per IP:
    # parallel test workers each get their own Redis database so they cannot disturb each other.
    _base, _, _db = CACHES["default"]["LOCATION"].rpartition("/")
    CACHES["default"]["LOCATION"] = f"{_base}/{int(_db or 0) + 1 + int(_XDIST_WORKER[2:] or 0)}"
# The rate limiter counts in the default cache. Production must share it between workers
# (Redis); core.checks refuses a process-local cache when DEBUG is false. While Redis cannot be
# reached each process counts alone (core/rate_limit_cache.py), so a limit still holds per process.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "core.views.rate_limited"
RATELIMIT_IP_META_KEY = env("RATELIMIT_IP_META_KEY", default="REMOTE_ADDR")

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "marketplace:browse"
LOGOUT_REDIRECT_URL = "marketplace:browse"
# How long a password reset link works (Django's default is three days).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=2 * 60 * 60)
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

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
# Local dispute evidence (empty: the folder `evidence` beside MEDIA_ROOT, never served).
EVIDENCE_ROOT = env("EVIDENCE_ROOT", default="")
# Uploads (stub photos, dispute evidence) on one S3 bucket shared by every app host and worker
# when MEDIA_S3_BUCKET is set; local disk otherwise (core/storage.py, docs/deploy.md).
MEDIA_S3_BUCKET = env("MEDIA_S3_BUCKET", default="")
if MEDIA_S3_BUCKET:
    _MEDIA_S3_CUSTOM_DOMAIN = env("MEDIA_S3_CUSTOM_DOMAIN", default="")
    _MEDIA_S3_ENDPOINT_URL = env("MEDIA_S3_ENDPOINT_URL", default="").rstrip("/")
    _MEDIA_STORAGES = s3_storages(
        bucket=MEDIA_S3_BUCKET,
        endpoint_url=_MEDIA_S3_ENDPOINT_URL,
        region=env("MEDIA_S3_REGION", default=""),
        access_key=env("MEDIA_S3_ACCESS_KEY_ID", default=""),
        secret_key=env("MEDIA_S3_SECRET_ACCESS_KEY", default=""),
        custom_domain=_MEDIA_S3_CUSTOM_DOMAIN,
        querystring_auth=env.bool("MEDIA_S3_QUERYSTRING_AUTH", default=False),
        querystring_expire=env.int("MEDIA_S3_QUERYSTRING_EXPIRE", default=3600),
        timeout=env.float("MEDIA_S3_TIMEOUT_SECONDS", default=5.0),
    )
    # Where the photos are (the storage makes their URLs): part of the cached cards' key.
    MEDIA_URL = (f"https://{_MEDIA_S3_CUSTOM_DOMAIN}/" if _MEDIA_S3_CUSTOM_DOMAIN
                 else f"{_MEDIA_S3_ENDPOINT_URL or 'https://s3.amazonaws.com'}/{MEDIA_S3_BUCKET}/")
else:
    _MEDIA_STORAGES = local_storages()
STORAGES = {
    **_MEDIA_STORAGES,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
# Stub photos (marketplace/images.py): a file's bytes and its decoded pixels (read from the
# header, before anything is decoded); the photo task's time limits in seconds (soft: the photo
# is marked failed; hard: the worker process is replaced); uploads per seller and per IP.
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=5 * 1024 * 1024)
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=12_000_000)
PHOTO_TASK_SOFT_TIME_LIMIT = env.int("PHOTO_TASK_SOFT_TIME_LIMIT", default=20)
PHOTO_TASK_TIME_LIMIT = env.int("PHOTO_TASK_TIME_LIMIT", default=30)
# A photo still processing this long after its upload (its task lost: a worker killed, Redis
# restarted empty) has its task queued again by beat, at most once per this long; one still
# processing after PHOTO_GIVE_UP_AFTER_SECONDS is marked failed (marketplace/photos.py).
PHOTO_REQUEUE_AFTER_SECONDS = env.int("PHOTO_REQUEUE_AFTER_SECONDS", default=180)
PHOTO_GIVE_UP_AFTER_SECONDS = env.int("PHOTO_GIVE_UP_AFTER_SECONDS", default=3600)
PHOTO_UPLOAD_RATE_PER_SELLER = env("PHOTO_UPLOAD_RATE_PER_SELLER", default="30/h")
PHOTO_UPLOAD_RATE_PER_IP = env("PHOTO_UPLOAD_RATE_PER_IP", default="60/h")

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Stub Collector <orders@stubcollector.test>")

# Content Security Policy (django-csp). Our own part only: core.csp adds the Stripe
# origins (Stripe's published list with real keys, the sandbox's origin offline) per request.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "frame-src": ["'self'"],
        "connect-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Security. Development keeps plain HTTP; DEBUG=false turns on everything check --deploy asks.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Sessions read from the cache (no query per logged-in request), kept in the database, served from
# the database whenever the cache cannot be reached (core/sessions.py).
SESSION_ENGINE = "core.sessions"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Stripe. No keys given means the offline sandbox (stripe_sandbox/) on STRIPE_API_HOST.
STRIPE_SANDBOX_URL = env("STRIPE_SANDBOX_URL", default="http://127.0.0.1:12111")
# The sandbox default is shaped like a real test key: dj-stripe refuses to record events
# under a key that is not sk_test_ + 24 or more letters and digits. An empty value is the same
# as none (the sandbox); any other value must be a secret or restricted key (sk_/rk_, live/test)
# or nothing starts: core/stripe_keys.py decides the mode from it (STRIPE_LIVE_MODE).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="") or "sk_test_sandbox0000000000000000000000000"
STRIPE_LIVE_MODE = stripe_key_livemode(STRIPE_SECRET_KEY)
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="pk_test_sandbox")
# The sandbox's signing secrets are public (they are in this file): stubcollector.E003 refuses
# them, and an empty secret, whenever real Stripe keys are configured.
SANDBOX_WEBHOOK_SECRETS = ("whsec_sandbox_platform", "whsec_sandbox_connect")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default=SANDBOX_WEBHOOK_SECRETS[0])
STRIPE_CONNECT_WEBHOOK_SECRET = env("STRIPE_CONNECT_WEBHOOK_SECRET", default=SANDBOX_WEBHOOK_SECRETS[1])
# No key given means the sandbox; a real key means real Stripe unless STRIPE_API_HOST says otherwise.
STRIPE_USES_SANDBOX_BY_DEFAULT = STRIPE_SECRET_KEY.startswith("sk_test_sandbox")
if not STRIPE_USES_SANDBOX_BY_DEFAULT:
    # Like a missing SECRET_KEY: with real keys, a missing or public (sandbox) signing secret
    # would let anyone sign an event that marks an order paid. gunicorn never runs `check`, so
    # refusing to start is the only guard that always holds.
    for _name, _secret in (("STRIPE_WEBHOOK_SECRET", STRIPE_WEBHOOK_SECRET),
                           ("STRIPE_CONNECT_WEBHOOK_SECRET", STRIPE_CONNECT_WEBHOOK_SECRET)):
        if not _secret or _secret in SANDBOX_WEBHOOK_SECRETS:
            raise ImproperlyConfigured(
                f"{_name} must be set to your Stripe webhook endpoint's signing secret (whsec_…) "
                "when real Stripe keys are configured; the sandbox's public secret, or none, "
                "would let anyone sign events."
            )
STRIPE_API_HOST = env(
    "STRIPE_API_HOST",
    default=STRIPE_SANDBOX_URL if STRIPE_USES_SANDBOX_BY_DEFAULT else "https://api.stripe.com",
)
# File uploads (dispute evidence) go to Stripe's files host, not the API host; a sandbox serves both.
STRIPE_UPLOAD_API_HOST = env(
    "STRIPE_UPLOAD_API_HOST",
    default=("https://files.stripe.com" if STRIPE_API_HOST.rstrip("/") == "https://api.stripe.com"
             else STRIPE_API_HOST),
)
STRIPE_JS_URL = env(
    "STRIPE_JS_URL",
    default=f"{STRIPE_SANDBOX_URL}/v3/" if STRIPE_USES_SANDBOX_BY_DEFAULT else "https://js.stripe.com/v3/",
)
# Stripe recommends Stripe.js on every page, not only checkout, so Radar sees how a buyer
# browses (https://docs.stripe.com/js/including). With real Stripe we do (async, so it never
# blocks a page); the offline stand-in has no fraud signals to collect, so it loads on checkout only.
STRIPE_JS_ON_EVERY_PAGE = env.bool("STRIPE_JS_ON_EVERY_PAGE", default=not STRIPE_USES_SANDBOX_BY_DEFAULT)
# Starts every idempotency key we send Stripe, so keys never repeat after a database reset or
# on another deployment sharing the Stripe account. Empty: a value made once and stored in the
# database (payments.idempotency).
STRIPE_IDEMPOTENCY_PREFIX = env("STRIPE_IDEMPOTENCY_PREFIX", default="")
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
STRIPE_WEBHOOK_IP_ALLOWLIST = env.bool("STRIPE_WEBHOOK_IP_ALLOWLIST", default=False)
# How many reverse proxies in front of us append to X-Forwarded-For; 0 trusts only the socket.
STRIPE_WEBHOOK_TRUSTED_PROXIES = env.int("STRIPE_WEBHOOK_TRUSTED_PROXIES", default=0)
STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300
# How far into the future a webhook signature's timestamp may be (our clock behind Stripe's).
STRIPE_WEBHOOK_FUTURE_SKEW_SECONDS = env.int("STRIPE_WEBHOOK_FUTURE_SKEW_SECONDS", default=300)
# JSON bodies (webhooks, JSON routes) nested deeper than this are a 400 (core/json_depth.py).
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=64)

PLATFORM_FEE_BPS = env.int("PLATFORM_FEE_BPS", default=1000)
# The Support group refunds up to this much on one order in total (its pending and succeeded
# refunds together), and each Support agent up to the daily amount in any 24 hours; above either
# a refund waits for Finance's approval. Finance refunds any amount.
SUPPORT_REFUND_LIMIT_CENTS = env.int("SUPPORT_REFUND_LIMIT_CENTS", default=10000)
SUPPORT_REFUND_DAILY_LIMIT_CENTS = env.int("SUPPORT_REFUND_DAILY_LIMIT_CENTS", default=50000)
LISTING_RESERVATION_MINUTES = env.int("LISTING_RESERVATION_MINUTES", default=15)
# A buyer who let a hold run out may hold that stub again only this long after it lapsed.
HOLD_COOLDOWN_MINUTES = env.int("HOLD_COOLDOWN_MINUTES", default=LISTING_RESERVATION_MINUTES)
# POSTs per user (django-ratelimit rates) on the routes that change state
# (core/rate_limits.py): refunds (site and admin together), dispute notes and answers,
# and every other state-changing form or JSON route.
REFUND_RATE_PER_USER = env("REFUND_RATE_PER_USER", default="10/m")
DISPUTE_RATE_PER_USER = env("DISPUTE_RATE_PER_USER", default="20/m")
# Dispute evidence files sent to Stripe (staff and sellers), on top of DISPUTE_RATE_PER_USER.
DISPUTE_EVIDENCE_UPLOAD_RATE_PER_USER = env("DISPUTE_EVIDENCE_UPLOAD_RATE_PER_USER", default="30/h")
POST_RATE_PER_USER = env("POST_RATE_PER_USER", default="60/m")
# New messages (questions and answers, messaging/views.py) per user and per IP, one budget for
# asking and answering; the other party gets at most one email per conversation this often.
MESSAGE_RATE_PER_USER = env("MESSAGE_RATE_PER_USER", default="20/m")
MESSAGE_RATE_PER_IP = env("MESSAGE_RATE_PER_IP", default="60/m")
MESSAGE_EMAIL_MINUTES = env.int("MESSAGE_EMAIL_MINUTES", default=15)
# Offers (offers/services.py): each side answers within this many hours or the offer expires; a
# buyer has at most this many offers waiting for an answer; new offers per user (rate), which also
# keeps a buyer from finding a seller's hidden minimum by trying prices.
OFFER_RESPONSE_HOURS = env.int("OFFER_RESPONSE_HOURS", default=48)
OFFERS_MAX_OPEN_PER_BUYER = env.int("OFFERS_MAX_OPEN_PER_BUYER", default=3)
OFFER_RATE_PER_USER = env("OFFER_RATE_PER_USER", default="10/h")
# Live holds one buyer may have at once (a hold is extended at most once, to twice the length).
MAX_ACTIVE_RESERVATIONS_PER_BUYER = env.int("MAX_ACTIVE_RESERVATIONS_PER_BUYER", default=3)
# Saved searches one user may keep (counted under a lock on the user's row).
MAX_SAVED_SEARCHES = env.int("MAX_SAVED_SEARCHES", default=20)
# A watcher gets at most one price-drop email per listing in this many hours.
WATCH_PRICE_DROP_EMAIL_HOURS = env.int("WATCH_PRICE_DROP_EMAIL_HOURS", default=24)
SELLER_PAYOUT_DELAY_DAYS = env.int("SELLER_PAYOUT_DELAY_DAYS", default=7)
# The hourly balance read covers every seller with a refund or dispute in this many days.
SELLER_BALANCE_WATCH_DAYS = env.int("SELLER_BALANCE_WATCH_DAYS", default=30)
# A paid order still unshipped this many days later is on the staff to-do list.
SHIP_WITHIN_DAYS = env.int("SHIP_WITHIN_DAYS", default=5)
# Problem reports (docs/operations.md, "Problem reports"): "not received" may be reported this many
# days after payment (the expected delivery window), or this many days after shipping without
# delivery, whichever comes first; any report at most PROBLEM_REPORT_WITHIN_DAYS after payment.
# The seller has PROBLEM_SELLER_ANSWER_DAYS to answer (then the report goes to Support); after an
# answer the buyer has PROBLEM_BUYER_ESCALATE_DAYS to take it to Support (then it closes).
PROBLEM_DELIVERY_WINDOW_DAYS = env.int("PROBLEM_DELIVERY_WINDOW_DAYS", default=14)
PROBLEM_NOT_RECEIVED_AFTER_SHIPPING_DAYS = env.int("PROBLEM_NOT_RECEIVED_AFTER_SHIPPING_DAYS", default=7)
PROBLEM_REPORT_WITHIN_DAYS = env.int("PROBLEM_REPORT_WITHIN_DAYS", default=60)
PROBLEM_SELLER_ANSWER_DAYS = env.int("PROBLEM_SELLER_ANSWER_DAYS", default=3)
PROBLEM_BUYER_ESCALATE_DAYS = env.int("PROBLEM_BUYER_ESCALATE_DAYS", default=7)
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# dj-stripe: the mode of STRIPE_SECRET_KEY (STRIPE_LIVE_MODE, above); we keep our own webhook views.
STRIPE_TEST_SECRET_KEY = STRIPE_SECRET_KEY
STRIPE_LIVE_SECRET_KEY = STRIPE_SECRET_KEY
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_USE_NATIVE_JSONFIELD = True
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"
DJSTRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_SECRET

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 24,
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
}

# Logs (core/logs.py): JSON lines on stderr (LOG_FORMAT=json, the default without
# DEBUG), readable text in development; each line has the request id, secrets are masked.
LOG_FORMAT = env("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "core.logs.JsonFormatter"},
        "text": {"()": "core.logs.TextFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # stripe-python logs every request at INFO; stubcollector.stripe writes one line per call.
    # django.server / gunicorn access lines repeat stubcollector.request's line.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "stripe": {"level": "WARNING"},
                "django.server": {"level": "WARNING"}},
}

# Background work (stubcollector/celery.py). No broker: tasks run in-process after the commit.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # long Stripe calls: do not hoard messages
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task queued but unacknowledged comes back after this many seconds (Redis visibility).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep our JSON handler
# A Stripe delivery is tried 1 + WEBHOOK_MAX_RETRIES times, 30 s, 2 min, 8 min, 32 min, then
# WEBHOOK_RETRY_MAX_DELAY_SECONDS apart (kept under the visibility timeout above, or Redis would
# hand the waiting retry to a second worker): 100 tries span 72.7 hours, past Stripe's 3 days.
WEBHOOK_RETRY_MAX_DELAY_SECONDS = env.int("WEBHOOK_RETRY_MAX_DELAY_SECONDS", default=2700)
WEBHOOK_MAX_RETRIES = env.int("WEBHOOK_MAX_RETRIES", default=100)
# A stored delivery whose task was lost (a worker killed, Redis restarted empty) is applied by
# beat once this long has passed since its task was due (payments/services/redelivery.py),
# at most WEBHOOK_REDELIVER_BATCH a minute; its tries count towards WEBHOOK_MAX_RETRIES.
WEBHOOK_REDELIVER_AFTER_SECONDS = env.int("WEBHOOK_REDELIVER_AFTER_SECONDS", default=180)
WEBHOOK_REDELIVER_BATCH = env.int("WEBHOOK_REDELIVER_BATCH", default=100)

# Operations: pause checkout without taking the site down; protect /metrics.
CHECKOUT_ENABLED = env.bool("CHECKOUT_ENABLED", default=True)
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# /readyz's broker check gives up after this long (one try, no retry).
READYZ_BROKER_TIMEOUT_SECONDS = env.float("READYZ_BROKER_TIMEOUT_SECONDS", default=1.0)

SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from core.sentry import sentry_init  # only with a DSN: no Sentry code is loaded otherwise

    sentry_init(dsn=SENTRY_DSN, environment=env("SENTRY_ENVIRONMENT", default="production"),
                traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0))

# See core/checks.py: each check silenced here is replaced by one of our own that
# still fails when the thing it guards is really wrong.
# - django_ratelimit.W001 ("not officially supported") only for Django's own RedisCache (and
#   core.rate_limit_cache's, which is it), whose incr is atomic and shared; stubcollector.E001
#   still refuses any process-local cache.
# - django_ratelimit.E003 ("locmem is not shared") only with DEBUG on: one runserver process,
#   where locmem does limit. With DEBUG off it fires, and so does stubcollector.E001.
# - djstripe.W002 ("STRIPE_API_HOST set in production"): we always set it (to api.stripe.com
#   with real keys); stubcollector.E002 refuses a live key sent anywhere but api.stripe.com.
_RATELIMIT_BACKEND = CACHES[RATELIMIT_USE_CACHE]["BACKEND"]
SILENCED_SYSTEM_CHECKS = ["djstripe.W002"]
if _RATELIMIT_BACKEND in ("django.core.cache.backends.redis.RedisCache", "core.rate_limit_cache.RedisCache"):
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.W001"]
elif _RATELIMIT_BACKEND == "django.core.cache.backends.locmem.LocMemCache" and DEBUG:
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=DEBUG)
