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
payments.tests.factories.staff_member makes them with payments/staff.py (docs/architecture.md,
"Staff").
"""

from functools import cached_property

from django.test import Client

from accounts.tests.factories import UserFactory
from marketplace.tests.factories import ListingFactory
from payments.staff import FINANCE, SUPPORT
from payments.tests.factories import PaymentFactory, sandbox_seller_onboarded, staff_member
from payments.tests.webhook_support import deliver, endpoints_register, pay, sandbox_order

ROLES = ("anon", "buyer", "buyer2", "seller", "seller2", "staff", "support", "finance", "super")
STAFF_ROLES = ("staff", "support", "finance", "super")
GROUP_NAMES = {"support": SUPPORT, "finance": FINANCE}


def make_user(role: str):
    if role == "staff":
        return staff_member()
    if role == "super":
        return staff_member(is_superuser=True)
    if role in GROUP_NAMES:
        return staff_member(GROUP_NAMES[role])
    return UserFactory()


class World:
    """Built on demand: a cell that only needs the visitor and a listing makes only those;
    `world[role]` is that visitor (None for anon), made on first use.

    `order` is paid and not shipped, bought by world["buyer"] from world["seller"]: a real
    sandbox purchase when `paid_on_stripe` (refunds need a charge), else factory rows.
    `listing` is another active listing of world["seller"].
    """

    def __init__(self, sandbox, *, paid_on_stripe: bool = True):
        self.sandbox = sandbox
        self.paid_on_stripe = paid_on_stripe
        self._users = {"anon": None}

    def __getitem__(self, role: str):
        if role not in self._users:
            if role in ("seller", "seller2"):
                self._users[role] = sandbox_seller_onboarded(self.sandbox)
            else:
                self._users[role] = make_user(role)
        return self._users[role]

    @cached_property
    def order(self):
        seller, buyer = self["seller"], self["buyer"]
        if not self.paid_on_stripe:
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


def world_around(sandbox, order) -> World:
    """The paid world with `order` as its order: the root conftest's `paid_order`, the purchase
    World.order would make (a seller onboarded in the sandbox, a new buyer, paid with a test
    card, its webhooks delivered), made once and shared (testing/paid_snapshot.py). The seller
    and buyer are the order's; the other visitors are made on first use as in any world."""
    assert order.status == "paid", order.status
    world = World(sandbox, paid_on_stripe=True)
    world._users.update(seller=order.seller, buyer=order.buyer)
    world.order = order
    return world
