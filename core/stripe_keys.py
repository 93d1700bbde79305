"""Which Stripe mode a secret key works in: the one place that decides it.

settings.py (STRIPE_LIVE_MODE, read by dj-stripe and by the webhook guard that refuses the
other mode's events), the deploy checks (core/checks.py) and the sandbox's key test
all ask `stripe_key_livemode`. Stripe's server-side keys are secret keys (`sk_`) and restricted
keys (`rk_`, the kind Stripe recommends), each `live` or `test`
(https://docs.stripe.com/keys, https://docs.stripe.com/keys/restricted-api-keys). Anything else
is a configuration mistake that would silently put the app in the wrong mode, so it refuses to
start instead. Imports nothing of the project: settings.py reads it.
"""

import re

from django.core.exceptions import ImproperlyConfigured

# The shape dj-stripe also requires before it records anything under a key
# (djstripe.models.api.API_KEY_REGEX, server-side kinds only).
SECRET_KEY_SHAPE = re.compile(r"^(?P<kind>sk|rk)_(?P<mode>live|test)_[A-Za-z0-9]{24,}$")


def stripe_key_livemode(key: str) -> bool:
    """True for a live key (`sk_live_…`, `rk_live_…`), False for a test key (`sk_test_…`,
    `rk_test_…`); ImproperlyConfigured for any other shape (a publishable key, a webhook
    secret, a truncated or quoted value)."""
    match = SECRET_KEY_SHAPE.match(key or "")
    if match is None:
        shown = f"{key[:8]}…" if key else "(empty)"
        raise ImproperlyConfigured(
            f"STRIPE_SECRET_KEY {shown} is not a Stripe secret or restricted key: expected "
            "sk_live_…, rk_live_…, sk_test_… or rk_test_… followed by at least 24 letters and "
            "digits (Dashboard → Developers → API keys). Unset it to use the offline sandbox."
        )
    return match["mode"] == "live"
