"""The adversarial suite's settings: Hypothesis' profiles, Support's refund limit, rate limits
off. The cast the tests act on (nine kinds of visitor, a paid order, a listing) is
security/world.py."""

import os

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis: no deadline (no timed assertions: CI machines are slow and shared), no example
# database in the work tree, and function-scoped fixtures (the sandbox, the db) are fine: each
# example builds its own rows. HYPOTHESIS_PROFILE=thorough runs ten times more examples.
settings.register_profile(
    "security", max_examples=150, deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)
settings.register_profile("thorough", parent=settings.get_profile("security"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "security"))

# Support's limit in the tests: the matrix refunds below it, the limit tests above it.
SUPPORT_LIMIT_CENTS = 2000


@pytest.fixture
def support_limit(settings):
    settings.SUPPORT_REFUND_LIMIT_CENTS = SUPPORT_LIMIT_CENTS
    return SUPPORT_LIMIT_CENTS


@pytest.fixture
def no_rate_limits(settings):
    settings.RATELIMIT_ENABLE = False
