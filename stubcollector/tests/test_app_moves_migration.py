"""A database from before the apps were split off payments upgrades with its data: rows written in
the old tables while their models were payments' read back through the new apps' models after
`migrate`. The moves are in the migration state only (payments 0015 for ratings, 0016 for
disputes), so nothing may be lost, renamed or left behind.

PostgreSQL only (the production database). The test run builds its database without migrations,
which cannot be migrated backwards, so the test makes a scratch database next to it (same
server and credentials, from settings.DATABASES), points the default connection at it while it
migrates payments to 0014_payouts (the moved apps to zero), writes the rows through the models as
they were then, migrates to the latest and reads them back, and drops it afterwards.

Each moved app adds a MoveCheck to MOVE_CHECKS: `before(apps, world)` writes its rows with the
historical models (world holds the users and a completed order made for every check) and returns
what `after(world, written)` needs to find them through today's models.
"""

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

OLD_NODE = ("payments", "0014_payouts")
# Apps whose models came out of payments: at zero before the upgrade.
MOVED_APPS = ("ratings", "disputes", "connect")


@dataclass
class MoveCheck:
    name: str
    before: Callable  # (apps, world) -> written
    after: Callable  # (world, written) -> None, asserts


def _ratings_before(apps, world):
    Feedback = apps.get_model("payments", "Feedback")
    SellerRating = apps.get_model("payments", "SellerRating")
    order = world["order"]
    feedback = Feedback.objects.create(
        order_id=order.pk, buyer_id=order.buyer_id, seller_id=order.seller_id, rating=4,
        comment="Flat and on time.", reply="Thanks!", replied_at=world["now"],
    )
    SellerRating.objects.create(seller_id=order.seller_id, count=1, average=Decimal("4.00"))
    return {"feedback_id": feedback.pk}


def _ratings_after(world, written):
    from django.contrib.contenttypes.models import ContentType

    from ratings.models import Feedback, SellerRating

    feedback = Feedback.objects.get(pk=written["feedback_id"])
    assert (feedback.order_id, feedback.buyer_id, feedback.seller_id) == (
        world["order"].pk, world["buyer"].pk, world["seller"].pk
    )
    assert (feedback.rating, feedback.comment, feedback.reply) == (4, "Flat and on time.", "Thanks!")
    assert feedback.order.feedback == feedback  # the reverse accessor still reaches it
    summary = SellerRating.objects.get(seller_id=world["seller"].pk)
    assert (summary.count, summary.average) == (1, Decimal("4.00"))
    ContentType.objects.clear_cache()
    assert ContentType.objects.get_for_model(Feedback).app_label == "ratings"
    left = ContentType.objects.filter(app_label="payments", model__in=["feedback", "sellerrating"])
    assert not left.exists()


def _disputes_before(apps, world):
    Dispute = apps.get_model("payments", "Dispute")
    DisputeEvidenceFile = apps.get_model("payments", "DisputeEvidenceFile")
    order = world["order"]
    dispute = Dispute.objects.create(
        stripe_dispute_id="dp_old", order_id=order.pk, stripe_account_id="acct_old", charge_id="ch_old",
        amount_cents=2500, reason="product_not_received", status="needs_response",
        evidence_due_by=world["now"] + datetime.timedelta(days=5), seller_note="Posted with tracking.",
        seller_note_at=world["now"],
    )
    evidence = DisputeEvidenceFile.objects.create(
        dispute_id=dispute.pk, kind="receipt", stripe_file_id="file_old", name="receipt.pdf", size=2048,
        file_type="pdf", sha256="0" * 64, uploaded_by_id=order.seller_id,
    )
    return {"dispute_id": dispute.pk, "file_id": evidence.pk}


def _disputes_after(world, written):
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from disputes.models import Dispute, DisputeEvidenceFile
    from payments.staff import FINANCE, SUPPORT

    dispute = Dispute.objects.get(pk=written["dispute_id"])
    assert (dispute.order_id, dispute.stripe_dispute_id, dispute.status, dispute.amount_cents) == (
        world["order"].pk, "dp_old", "needs_response", 2500
    )
    assert dispute.seller_note == "Posted with tracking." and dispute.needs_response
    assert dispute.order.disputes.get() == dispute  # the reverse accessor still reaches it
    evidence = DisputeEvidenceFile.objects.get(pk=written["file_id"])
    assert (evidence.dispute_id, evidence.kind, evidence.stripe_file_id, evidence.uploaded_by_id) == (
        dispute.pk, "receipt", "file_old", world["seller"].pk
    )
    assert dispute.evidence_files.get() == evidence
    ContentType.objects.clear_cache()
    assert ContentType.objects.get_for_model(Dispute).app_label == "disputes"
    assert ContentType.objects.get_for_model(DisputeEvidenceFile).app_label == "disputes"
    left = ContentType.objects.filter(app_label="payments", model__in=["dispute", "disputeevidencefile"])
    assert not left.exists()
    # respond_dispute moved from Order to Dispute; the staff groups kept what they were given.
    assert set(Permission.objects.filter(codename="respond_dispute")
               .values_list("content_type__app_label", "content_type__model")) == {("disputes", "dispute")}
    for name in (SUPPORT, FINANCE):
        permissions = Group.objects.get(name=name).permissions
        held = set(permissions.values_list("content_type__app_label", "codename"))
        assert {("disputes", "respond_dispute"), ("disputes", "view_dispute")} <= held, name


MOVE_CHECKS = [
    MoveCheck("ratings: an order's feedback and the seller's rating", _ratings_before, _ratings_after),
    MoveCheck("disputes: a dispute on the order, its evidence file, the staff's permissions",
              _disputes_before, _disputes_after),
]


def _old_targets(executor) -> list[tuple[str, str | None]]:
    """payments at 0014, the moved apps at zero, every other app as far as it goes without them."""
    graph = executor.loader.graph
    moved_nodes = {node for node in graph.nodes if node[0] in MOVED_APPS}
    moved_nodes |= {node for node in graph.nodes if node[0] == "payments" and node > OLD_NODE}
    targets = [OLD_NODE, *((app, None) for app in MOVED_APPS if app in executor.loader.migrated_apps)]
    for leaf in graph.leaf_nodes():
        if leaf[0] in MOVED_APPS or leaf[0] == "payments":
            continue
        if moved_nodes.isdisjoint(graph.forwards_plan(leaf)):
            targets.append(leaf)
    return targets


def _world(apps):
    """A seller, a buyer, a stub, its listing (sold) and a completed order, as the old models wrote them."""
    User = apps.get_model("accounts", "User")
    Stub = apps.get_model("marketplace", "Stub")
    Listing = apps.get_model("marketplace", "Listing")
    Order = apps.get_model("payments", "Order")
    now = datetime.datetime.now(datetime.UTC)
    # Historical models run no save() of ours: the username's look-alike key is written by hand.
    seller = User.objects.create(username="old-seller", username_key="old-seller",
                                 email="old-seller@example.com", is_seller=True)
    buyer = User.objects.create(username="old-buyer", username_key="old-buyer", email="old-buyer@example.com")
    stub = Stub.objects.create(event_name="Old Show", venue="Hall", city="Leeds",
                               event_date=datetime.date(1999, 12, 31), category="music")
    listing = Listing.objects.create(seller_id=seller.pk, stub_id=stub.pk, price_cents=2500, status="sold")
    order = Order.objects.create(
        buyer_id=buyer.pk, seller_id=seller.pk, listing_id=listing.pk, amount_cents=2500,
        application_fee_cents=250, status="completed", stripe_account_id="acct_old",
        payment_intent_id="pi_old", shipping_name="Old Buyer", shipping_line1="1 Road",
        shipping_city="Leeds", shipping_postal_code="LS1 1AA", shipping_country="GB",
        paid_at=now, shipped_at=now, completed_at=now,
    )
    return {"now": now, "seller": seller, "buyer": buyer, "listing": listing, "order": order}


@pytest.fixture
def scratch_database(settings):
    """The default connection pointed at a new, empty database on the same server, dropped after."""
    settings.MIGRATION_MODULES = {}  # the test run hides the migrations (--no-migrations)
    name = f"stubcollector_moves_{uuid.uuid4().hex[:12]}"
    test_name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        yield name
    finally:
        from django.contrib.contenttypes.models import ContentType

        ContentType.objects.clear_cache()  # ids of the scratch database's rows
        connection.close()
        connection.settings_dict["NAME"] = test_name
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_moves_keeps_its_rows(scratch_database):
    executor = MigrationExecutor(connection)
    old_state = executor.migrate(_old_targets(executor))
    old_apps = old_state.apps
    world = _world(old_apps)
    written = {check.name: check.before(old_apps, world) for check in MOVE_CHECKS}

    executor = MigrationExecutor(connection)  # reads the applied migrations again
    executor.migrate(executor.loader.graph.leaf_nodes())
    latest = MigrationExecutor(connection)
    assert not latest.migration_plan(latest.loader.graph.leaf_nodes())  # fully migrated

    for check in MOVE_CHECKS:
        check.after(world, written[check.name])
