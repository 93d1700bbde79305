"""Our own system checks, each replacing a third-party check that settings.py silences.

The rate limiter must count in a cache every worker shares once we are in production.

django-ratelimit flags Django's own RedisCache as "not officially supported" (W001) only
because its list predates it; Django's RedisCache increments atomically, so that warning
is silenced for it alone. A process-local cache is accepted with DEBUG on (one runserver
process, where it does limit) and is an error with DEBUG off.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from core.stripe_keys import stripe_key_livemode

SHARED_CACHE_BACKENDS = {
    "django.core.cache.backends.redis.RedisCache",
    "core.rate_limit_cache.RedisCache",  # Redis; counts per process only while Redis is away
    "django_redis.cache.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
}
PROCESS_LOCAL_BACKENDS = {"django.core.cache.backends.locmem.LocMemCache"}


def ratelimit_backend() -> str:
    return settings.CACHES[settings.RATELIMIT_USE_CACHE]["BACKEND"]


@checks.register(checks.Tags.caches)
def rate_limit_cache_is_shared(app_configs, **kwargs):
    backend = ratelimit_backend()
    if backend in SHARED_CACHE_BACKENDS:
        return []
    if backend in PROCESS_LOCAL_BACKENDS and settings.DEBUG:
        return []
    return [
        checks.Error(
            f"The rate-limit cache {backend} is not shared between processes.",
            hint="Set CACHE_URL to a Redis server (redis://host:6379/0) in production.",
            id="stubcollector.E001",
        )
    ]



STRIPE_API_ORIGIN = "https://api.stripe.com"
STRIPE_FILES_ORIGIN = "https://files.stripe.com"  # where stripe-python uploads files


@checks.register(checks.Tags.security, deploy=True)
def live_stripe_key_goes_to_stripe(app_configs, **kwargs):
    """Replaces djstripe.W002, which fires whenever STRIPE_API_HOST exists (we always set it).

    The real danger it guards against is a live secret key sent to some other host. Also
    E004: a key whose shape decides no mode, or a STRIPE_LIVE_MODE that is not the key's.
    """
    try:
        live = stripe_key_livemode(settings.STRIPE_SECRET_KEY)
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="stubcollector.E004")]
    if live != bool(settings.STRIPE_LIVE_MODE):
        return [checks.Error(
            f"STRIPE_LIVE_MODE is {settings.STRIPE_LIVE_MODE} but STRIPE_SECRET_KEY is a "
            f"{'live' if live else 'test'} key: events of the key's mode would not be applied.",
            hint="Leave STRIPE_LIVE_MODE to settings.py (core/stripe_keys.py decides it).",
            id="stubcollector.E004",
        )]
    host = (settings.STRIPE_API_HOST or "").rstrip("/")
    if live and host != STRIPE_API_ORIGIN:
        return [
            checks.Error(
                f"A live Stripe key is configured but STRIPE_API_HOST is {host!r}.",
                hint=f"Unset STRIPE_API_HOST (it defaults to {STRIPE_API_ORIGIN} when keys are given).",
                id="stubcollector.E002",
            )
        ]
    upload_host = (settings.STRIPE_UPLOAD_API_HOST or "").rstrip("/")
    if live and upload_host != STRIPE_FILES_ORIGIN:  # an upload carries the key as well
        return [
            checks.Error(
                f"A live Stripe key is configured but STRIPE_UPLOAD_API_HOST is {upload_host!r}.",
                hint=f"Unset STRIPE_UPLOAD_API_HOST (it defaults to {STRIPE_FILES_ORIGIN} with real keys).",
                id="stubcollector.E002",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def webhook_secrets_are_real_with_real_keys(app_configs, **kwargs):
    """With real Stripe keys, a webhook secret left at the sandbox's public default (or empty)
    would let anyone sign events that mark orders paid."""
    if settings.STRIPE_USES_SANDBOX_BY_DEFAULT:
        return []
    weak = [
        name
        for name in ("STRIPE_WEBHOOK_SECRET", "STRIPE_CONNECT_WEBHOOK_SECRET")
        if not getattr(settings, name) or getattr(settings, name) in settings.SANDBOX_WEBHOOK_SECRETS
    ]
    return [
        checks.Error(
            f"{name} is not set to the signing secret of your Stripe webhook endpoint.",
            hint="Copy the endpoint's whsec_… secret from the Stripe dashboard into the environment.",
            id="stubcollector.E003",
        )
        for name in weak
    ]
