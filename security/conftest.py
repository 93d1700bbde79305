"""The adversarial suite's cast: nine kinds of visitor and a small marketplace they act on.

`World` is one seller's paid order (a real PaymentIntent on the seller's sandbox account, paid
with a test card and recorded through the real webhook views), one active listing of the same
seller, two buyers, a second seller and four kinds of staff. Roles are the columns of the
authorization matrix (security/test_authorization_matrix.py):

    anon     nobody logged in
    buyer    the order's buyer            buyer2   another buyer (no orders)
    seller   the order's/listing's seller seller2  another onboarded seller
    staff    is_staff, no permissions, no group
    support  is_staff in the "Support" group
    finance  is_staff in the "Finance" group
    super    superuser

The Support and Finance groups are made by a data migration (payments/migrations/
0003_staff_groups.py). pytest runs with --no-migrations, so a data migration does not run here:
`staff_group` makes them with payments/staff.py (docs/architecture.md, "Staff").
"""

import os
from functools import cached_property

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from hypothesis import HealthCheck, settings

from accounts.tests.factories import UserFactory
from marketplace.tests.factories import ListingFactory
from payments.staff import FINANCE, SUPPORT, staff_groups_ensure
from payments.tests.factories import sandbox_seller_onboarded
from payments.tests.webhook_support import deliver, endpoints_register, pay, sandbox_order

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

ROLES = ("anon", "buyer", "buyer2", "seller", "seller2", "staff", "support", "finance", "super")
STAFF_ROLES = ("staff", "support", "finance", "super")
GROUP_NAMES = {"support": SUPPORT, "finance": FINANCE}

# Support's limit in the tests: the matrix refunds below it, the limit tests above it.
SUPPORT_LIMIT_CENTS = 2000


def staff_group(role: str) -> Group:
    """The group of payments/staff.py (made by migration 0003, which --no-migrations skips)."""
    staff_groups_ensure()
    return Group.objects.get(name=GROUP_NAMES[role])


def make_user(role: str, **kwargs):
    if role == "staff":
        return UserFactory(is_staff=True, **kwargs)
    if role == "super":
        return UserFactory(is_staff=True, is_superuser=True, **kwargs)
    if role in GROUP_NAMES:
        user = UserFactory(is_staff=True, **kwargs)
        user.groups.add(staff_group(role))
        return user
    return UserFactory(**kwargs)


class World:
    """Built on demand: a cell that only needs the visitor and a listing makes only those.

    `order` is paid and not shipped, bought by users["buyer"] from users["seller"]: a real
    sandbox purchase when `paid_on_stripe` (refunds need a charge), else factory rows.
    `listing` is another active listing of users["seller"].
    """

    def __init__(self, sandbox, *, paid_on_stripe: bool = True):
        self.sandbox = sandbox
        self.paid_on_stripe = paid_on_stripe
        self._users = {"anon": None}

    @property
    def users(self) -> "World":
        return self  # world.users["buyer"] reads as before; made on first use

    def __getitem__(self, role: str):
        if role not in self._users:
            if role in ("seller", "seller2"):
                self._users[role] = sandbox_seller_onboarded(self.sandbox)
            else:
                self._users[role] = make_user(role)
        return self._users[role]

    def get(self, role, default=None):
        return self[role]

    @cached_property
    def order(self):
        seller, buyer = self["seller"], self["buyer"]
        if not self.paid_on_stripe:
            from payments.tests.factories import PaymentFactory

            return PaymentFactory(order__buyer=buyer, order__listing__seller=seller).order
        if not getattr(self.sandbox, "security_endpoints", False):  # once per sandbox
            endpoints_register(self.sandbox, Client())
            self.sandbox.security_endpoints = True
        order = sandbox_order(self.sandbox, seller=seller, buyer=buyer)
        pay(order)
        deliver(self.sandbox)
        order.refresh_from_db()
        assert order.status == "paid", order.status
        return order

    @cached_property
    def listing(self):
        return ListingFactory(seller=self["seller"], price_cents=4200)

    def client_for(self, role: str) -> Client:
        client = Client()
        if self[role] is not None:
            client.force_login(self[role])
        return client


def build_world(sandbox, *, paid: bool = True) -> World:
    """`paid=False`: the order is factory rows (no Stripe charge behind it)."""
    return World(sandbox, paid_on_stripe=paid)


@pytest.fixture
def support_limit(settings):
    settings.SUPPORT_REFUND_LIMIT_CENTS = SUPPORT_LIMIT_CENTS
    return SUPPORT_LIMIT_CENTS


@pytest.fixture
def no_rate_limits(settings):
    settings.RATELIMIT_ENABLE = False
