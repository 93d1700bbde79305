"""Orders and payments for tests.

`OrderFactory()` is a pending order on a fresh listing (reserved for the buyer), priced like the
listing with the platform fee from `application_fee_cents`. Pass `status=OrderStatus.PAID` (or use
`PaidOrderFactory`) for later states; `PaymentFactory()` is the succeeded direct charge of a
paid order. Factories write rows directly: they never call Stripe and write no audit rows.
"""

import datetime

import factory
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.tests.factories import SellerFactory, UserFactory
from marketplace.models import ListingStatus
from marketplace.pricing import EXPRESS_DIRECT_CHARGES_CONTROLLER, application_fee_cents
from marketplace.tests.factories import ListingFactory
from payments.models import (
    SOLD_ORDER_STATUSES,
    EarlyFraudWarning,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundApproval,
    RefundStatus,
)
from payments.staff import staff_groups_ensure

# Orders whose listing has been sold: every sale, and a lost dispute (the buyer kept the stub).
SOLD_STATUSES = {*SOLD_ORDER_STATUSES, OrderStatus.DISPUTE_LOST}


def _reservation_end():
    return timezone.now() + datetime.timedelta(minutes=settings.LISTING_RESERVATION_MINUTES)


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order
        skip_postgeneration_save = True  # the hook below saves exactly the fields it sets

    class Params:
        # Give the order real timestamps for its status (paid_at, shipped_at, ...).
        stamped = True

    buyer = factory.SubFactory(UserFactory)
    listing = factory.SubFactory(ListingFactory)
    seller = factory.SelfAttribute("listing.seller")
    amount_cents = factory.SelfAttribute("listing.price_cents")
    application_fee_cents = factory.LazyAttribute(lambda o: application_fee_cents(o.amount_cents))
    currency = "usd"
    status = OrderStatus.PENDING_PAYMENT
    stripe_account_id = factory.LazyAttribute(lambda o: o.seller.stripe_account_id)
    payment_intent_id = factory.Sequence(lambda n: f"pi_test{n:014d}")
    reserved_until = factory.LazyFunction(_reservation_end)

    shipping_name = factory.Faker("name")
    shipping_line1 = factory.Faker("street_address")
    shipping_line2 = ""
    shipping_city = factory.Faker("city")
    shipping_state = "CA"
    shipping_postal_code = factory.Faker("postcode")
    shipping_country = "US"

    @factory.post_generation
    def _listing_state(obj, create, extracted, **kwargs):
        """Keep the listing consistent with the order: held while pending, sold once paid."""
        if not create:
            return
        listing = obj.listing
        now = timezone.now()
        if obj.status == OrderStatus.PENDING_PAYMENT:
            listing.status = ListingStatus.RESERVED
            listing.reserved_by = obj.buyer
            listing.reserved_until = obj.reserved_until or _reservation_end()
        elif obj.status in SOLD_STATUSES:
            listing.status = ListingStatus.SOLD
            listing.reserved_by = None
            listing.reserved_until = None
        else:
            return
        listing.save(update_fields=["status", "reserved_by", "reserved_until", "updated_at"])
        stamps = {
            OrderStatus.PAID: ["paid_at"],
            OrderStatus.SHIPPED: ["paid_at", "shipped_at"],
            OrderStatus.COMPLETED: ["paid_at", "shipped_at", "completed_at"],
            OrderStatus.PARTIALLY_REFUNDED: ["paid_at", "refunded_at"],
            OrderStatus.DISPUTED: ["paid_at", "disputed_at"],
        }.get(obj.status, [])
        missing = [f for f in stamps if getattr(obj, f) is None]
        if missing:
            for field in missing:
                setattr(obj, field, now)
            obj.save(update_fields=missing)


class PaidOrderFactory(OrderFactory):
    status = OrderStatus.PAID
    reserved_until = None


class PaymentFactory(factory.django.DjangoModelFactory):
    """The succeeded charge of a paid order (on the seller's account)."""

    class Meta:
        model = Payment

    order = factory.SubFactory(PaidOrderFactory)
    stripe_account_id = factory.SelfAttribute("order.stripe_account_id")
    payment_intent_id = factory.SelfAttribute("order.payment_intent_id")
    charge_id = factory.Sequence(lambda n: f"ch_test{n:014d}")
    amount_cents = factory.SelfAttribute("order.amount_cents")
    application_fee_cents = factory.SelfAttribute("order.application_fee_cents")
    currency = "usd"
    status = PaymentStatus.SUCCEEDED
    stripe_status = "succeeded"



class RefundFactory(factory.django.DjangoModelFactory):
    """A refund row of a paid order, pending at Stripe unless told otherwise."""

    class Meta:
        model = Refund

    order = factory.SubFactory(PaidOrderFactory)
    stripe_refund_id = factory.Sequence(lambda n: f"re_test{n:014d}")
    amount_cents = factory.SelfAttribute("order.amount_cents")
    status = RefundStatus.PENDING


class RefundApprovalFactory(factory.django.DjangoModelFactory):
    """Support's request above its limit, waiting for Finance."""

    class Meta:
        model = RefundApproval

    order = factory.SubFactory(PaidOrderFactory)
    amount_cents = factory.SelfAttribute("order.amount_cents")
    why = "Above Support's limit of $100.00 per order."
    requested_by = factory.SubFactory(UserFactory, is_staff=True)


class EarlyFraudWarningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EarlyFraudWarning

    order = factory.SubFactory(PaidOrderFactory)
    stripe_warning_id = factory.Sequence(lambda n: f"issfr_test{n:014d}")
    stripe_account_id = factory.SelfAttribute("order.stripe_account_id")
    fraud_type = "made_with_stolen_card"
    stripe_created = factory.LazyFunction(timezone.now)


def sandbox_seller_onboarded(sandbox, **kwargs):
    """A seller (SellerFactory) whose Express account exists in the Stripe sandbox, onboarded
    there directly (connect/tests/support.py's `sandbox_seller_new` goes through our
    onboarding instead). The account is made as production makes them, with controller
    properties (the platform pays Stripe's fees), not as a legacy `type=express` account, on
    which the seller would pay them (docs/going-live.md)."""
    account = sandbox.create_account(onboarded=True, email="seller@example.com",
                                     controller=EXPRESS_DIRECT_CHARGES_CONTROLLER)
    return SellerFactory(stripe_account_id=account["id"], **kwargs)


def staff_member(group: str | None = None, **kwargs):
    """A staff user (is_staff), in payments/staff.py's `group` (SUPPORT or FINANCE) when given.
    The groups are made here: --no-migrations skips the data migration that makes them."""
    user = UserFactory(is_staff=True, **kwargs)
    if group:
        staff_groups_ensure()
        user.groups.add(Group.objects.get(name=group))
    return user


def shipping_address(**overrides) -> dict:
    """The shipping fields of a checkout request."""
    return {
        "shipping_name": "Ada Lovelace",
        "shipping_line1": "12 Analytical Row",
        "shipping_line2": "",
        "shipping_city": "Springfield",
        "shipping_state": "IL",
        "shipping_postal_code": "62701",
        "shipping_country": "US",
        **overrides,
    }
