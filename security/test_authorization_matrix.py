# ruff: noqa: E501 — the matrix keeps one route per line, each role in its own column.
"""Who may do what: every URL pattern of the project × nine kinds of visitor, one expected status each.

The routes come from the URL resolver (admin included). Every pattern must have a row, in
ROUTE_MATRIX (one row per pattern) or, for the pages Django admin makes for each registered
model, in ADMIN_MODEL_ACCESS (one row per model): a new route or admin model without a row fails
`test_every_url_pattern_has_a_row`, so whoever adds one decides, here, who may use it.

Roles (columns), see security/world.py:
    anon  buyer  buyer2  seller  seller2  staff  support  finance  super
The order is the buyer's, the listing the seller's; buyer2/seller2 are strangers to both; staff
has is_staff and no permission; support/finance are staff in those groups; super is a superuser.

A cell is the status the request must get; `403|404` accepts either. Cells for holes not closed
yet are in PENDING with the reason: they run as xfail(strict=True), so the day the fix lands
they pass, the suite fails on XPASS, and the entry must be deleted here.
"""

import datetime
import fnmatch
import json
import re

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from payments.services.fulfilment import order_ship
from payments.tests.factories import shipping_address
from security.world import ROLES, build_world, world_around

pytestmark = pytest.mark.django_db

# ---------------------------------------------------------------------------------------------
# The matrix. Method: what is sent (GET, POST form, JSON: POST of a JSON body asking for JSON).
# Patterns are the resolver's (prefix + route); `*` matches any one path segment.
# ---------------------------------------------------------------------------------------------
ROUTE_MATRIX = """
pattern                                                   method  anon  buyer  buyer2  seller  seller2  staff    support  finance  super
healthz                                                   GET     200   200    200     200     200      200      200      200      200
readyz                                                    GETJSON 200   200    200     200     200      200      200      200      200
metrics                                                   GET     401   401    401     401     401      401      401      401      401
accounts/signup/                                          GET     200   302    302     302     302      302      302      302      302
accounts/login/                                           GET     200   302    302     302     302      302      302      302      302
accounts/logout/                                          POST    302   302    302     302     302      302      302      302      302
accounts/profile/                                         GET     302   200    200     200     200      200      200      200      200
accounts/password/change/                                 GET     302   200    200     200     200      200      200      200      200
accounts/password/reset/                                  GET     200   200    200     200     200      200      200      200      200
accounts/password/reset/sent/                             GET     200   200    200     200     200      200      200      200      200
accounts/password/reset/<uidb64>/<token>/                 GET     200   200    200     200     200      200      200      200      200
accounts/password/reset/done/                             GET     200   200    200     200     200      200      200      200      200
payments/connect/onboard/                                 JSON    403   200    200     200     200      200      200      200      200
payments/onboard/return/                                  GET     302   302    302     302     302      302      302      302      302
payments/onboard/refresh/                                 GET     302   302    302     302     302      302      302      302      302
payments/connect/status/                                  GETJSON 403   403    403     200     200      403      403      403      403
payments/connect/balance/                                 GETJSON 403   403    403     200     200      403      403      403      403
payments/connect/dashboard/                               GET     302   403    403     302     302      403      403      403      403
payments/create-payment-intent/                           JSON    403   200    200     409     200      200      200      200      200
payments/orders/<int:order_id>/status/                    GETJSON 403   200    404     200     404      404      404      404      404
payments/orders/<int:order_id>/ship/                      JSON    403   404    404     200     404      404      404      404      404
payments/orders/<int:order_id>/complete/                  JSON    403   200    404     404     404      404      404      404      404
payments/orders/<int:order_id>/refund/                    JSON    403   404    404     201     404      403|404  201      201      201
payments/orders/<int:order_id>/relist/                    JSON    403   404    404     200     404      404      404      404      404
payments/orders/<int:order_id>/feedback/                  JSON    403   200    404     404     404      404      404      404      404
payments/orders/<int:order_id>/feedback/reply/            JSON    403   404    404     200     404      404      404      404      404
payments/orders/<int:order_id>/dispute/                   JSON    403   404    404     200     404      404      404      404      404
payments/orders/<int:order_id>/dispute/files/             POST    403   404    404     302     404      404      404      404      404
payments/webhook/                                         JSON    400   400    400     400     400      400      400      400      400
payments/webhook/connect/                                 JSON    400   400    400     400     400      400      400      400      400
dashboard/                                                GET     302   200    200     200     200      200      200      200      200
checkout/<int:listing_id>/                                GET     302   200    200     409     200      200      200      200      200
orders/                                                   GET     302   200    200     200     200      200      200      200      200
orders/<int:order_id>/                                    GET     302   200    404     200     404      404      404      404      404
<root>                                                    GET     200   200    200     200     200      200      200      200      200
listings/new/                                             GET     302   403    403     200     200      403      403      403      403
listings/<int:pk>/                                        GET     200   200    200     200     200      200      200      200      200
listings/<int:pk>/edit/                                   GET     302   404    404     200     404      404      404      404      404
listings/<int:pk>/withdraw/                               POST    302   404    404     302     404      404      404      404      404
listings/<int:pk>/relist/                                 POST    302   404    404     302     404      404      404      404      404
sellers/<str:username>/                                   GET     200   200    200     200     200      200      200      200      200
listings/<int:pk>/photos/                                 GET     302   404    404     200     404      404      404      404      404
listings/<int:pk>/photos/move/                            POST    302   404    404     302     404      404      404      404      404
listings/<int:pk>/photos/delete/                          POST    302   404    404     302     404      404      404      404      404
listings/<int:pk>/watch/                                  POST    302   302    302     409     302      302      302      302      302
watching/                                                 GET     302   200    200     200     200      200      200      200      200
saved-searches/                                           GET     302   200    200     200     200      200      200      200      200
saved-searches/<int:pk>/delete/                           POST    302   302    302     302     302      302      302      302      302
unsubscribe/<str:token>/                                  GET     200   200    200     200     200      200      200      200      200
messages/                                                 GET     302   200    200     200     200      200      200      200      200
messages/<int:conversation_id>/                           GET     302   200    404     200     404      404      404      404      404
messages/<int:conversation_id>/send/                      JSON    403   201    404     201     404      404      404      404      404
messages/report/<int:message_id>/                         JSON    403   409    404     201     404      404      404      404      404
listings/<int:listing_id>/ask/                            GET     302   200    200     409     200      200      200      200      200
orders/<int:order_id>/messages/                           GET     302   302    404     302     404      404      404      404      404
offers/                                                   GET     302   200    200     200     200      200      200      200      200
offers/<int:offer_id>/                                    GET     302   200    404     200     404      404      404      404      404
offers/<int:offer_id>/accept/                             JSON    403   409    404     200     404      404      404      404      404
offers/<int:offer_id>/decline/                            JSON    403   409    404     200     404      404      404      404      404
offers/<int:offer_id>/counter/                            JSON    403   409    404     200     404      404      404      404      404
offers/<int:offer_id>/withdraw/                           JSON    403   200    404     409     404      404      404      404      404
listings/<int:listing_id>/offer/                          JSON    403   201    201     409     201      201      201      201      201
orders/<int:order_id>/problem/                            GET     302   200    404     404     404      404      404      404      404
problems/<int:report_id>/                                 GET     302   200    404     200     404      404      404      404      404
problems/<int:report_id>/reply/                           JSON    403   403    404     200     404      404      404      404      404
problems/<int:report_id>/refund/                          JSON    403   403    404     201     404      404      404      404      404
problems/<int:report_id>/escalate/                        JSON    403   200    404     403     404      404      404      404      404
problems/<int:report_id>/close/                           JSON    403   200    404     403     404      404      404      404      404
problems/<int:report_id>/photos/<int:photo_id>/           GET     302   200    404     200     404      404      200      200      200
api/listings/                                             GETJSON 200   200    200     200     200      200      200      200      200
api/listings/<str:pk>/                                    GETJSON 200   200    200     200     200      200      200      200      200
marketplace/payment-compatibility/                        GETJSON 200   200    200     200     200      200      200      200      200
marketplace/my-orders/                                    GETJSON 403   200    200     200     200      200      200      200      200
^media/(?P<path>.*)$                                      GET     404   404    404     404     404      404      404      404      404
admin/                                                    GET     302   302    302     302     302      200      200      200      200
admin/login/                                              GET     200   200    200     200     200      302      302      302      302
admin/logout/                                             POST    302   302    302     302     302      302      302      302      302
admin/password_change/                                    GET     302   302    302     302     302      200      200      200      200
admin/password_change/done/                               GET     302   302    302     302     302      200      200      200      200
admin/autocomplete/                                       GET     302   302    302     302     302      403      403      403      403
admin/jsi18n/                                             GET     302   302    302     302     302      200      200      200      200
admin/r/<path:content_type_id>/<path:object_id>/          GET     302   302    302     302     302      404      404      404      404
admin/^(?P<app_label>*)/$                                 GET     302   302    302     302     302      404      200      200      200
admin/(?P<url>.*)$                                        GET     302   302    302     302     302      404      404      404      404
admin/payments/order/<int:order_id>/refund/               GET     302   302    302     302     302      403      200      200      200
admin/disputes/dispute/<int:dispute_id>/respond/          GET     302   302    302     302     302      403      200      200      200
admin/messaging/conversation/<int:conversation_id>/post/  GET     302   302    302     302     302      403      200      403      200
admin/problems/problemreport/<int:report_id>/decide/      GET     302   302    302     302     302      403      200      200      200
admin/payments/earlyfraudwarning/<int:warning_id>/refund/ GET     302   302    302     302     302      403      403      200      200
admin/accounts/user/<id>/password/                        GET     302   302    302     302     302      403      403      403      200
admin/djstripe/*/action/<str:action_name>/<str:model_name>/ GET   302   302    302     302     302      403      403      403      403
"""

# (pattern row, role) -> why the cell does not hold yet. xfail(strict=True): delete when fixed.
# Landed and removed from here: staff without the refund permission refunding through the JSON
# route (201), the Support/Finance groups (the admin refund page), dj-stripe's custom-action URL
# (resync from Stripe) that any staff user could run (now 403 for everyone).
PENDING: dict = {}

# Starting onboarding makes the caller a seller (docs/architecture.md, "URLs": "create/reuse the
# Express account"), so any logged-in user may; the seller-only JSON routes refuse the others.

# Django admin's pages for each registered model: who may view (changelist, change page as
# read-only, history), add, change (POST on the change page is not sent; the page is enough:
# 200 for viewers), delete. Role sets below. A model page for an object that does not exist
# answers 302 (back to the admin index) once the permission check passed.
READERS = {"support", "finance", "super"}
SUPPORT = {"support", "super"}
SUPER = {"super"}
# Reconciliation is Finance's (reconciliation/admin.py): Support and other staff get 403.
FINANCE = {"finance", "super"}
NOBODY = set()
ADMIN_MODEL_ACCESS_TABLE = """
model                            view      add      change   delete
auth.group                       SUPER     SUPER    SUPER    SUPER
accounts.user                    READERS   SUPER    SUPER    SUPER
marketplace.stub                 READERS   SUPER    SUPER    SUPER
marketplace.listing              READERS   SUPER    SUPER    SUPER
payments.order                   READERS   NOBODY   SUPER    NOBODY
payments.payment                 READERS   NOBODY   SUPER    NOBODY
payments.auditevent              READERS   NOBODY   NOBODY   NOBODY
payments.refund                  READERS   NOBODY   NOBODY   NOBODY
payments.refundapproval          READERS   NOBODY   NOBODY   NOBODY
disputes.dispute                 READERS   NOBODY   NOBODY   NOBODY
payments.earlyfraudwarning       READERS   NOBODY   NOBODY   NOBODY
messaging.conversation           READERS   NOBODY   NOBODY   NOBODY
messaging.messagereport          READERS   NOBODY   SUPPORT  NOBODY
offers.offer                     READERS   NOBODY   NOBODY   NOBODY
problems.problemreport           READERS   NOBODY   NOBODY   NOBODY
reconciliation.reconciliationrun FINANCE   NOBODY   NOBODY   NOBODY
reconciliation.difference        FINANCE   NOBODY   NOBODY   NOBODY
ratings.feedback                 SUPER     NOBODY   SUPER    NOBODY
ratings.sellerrating             SUPER     NOBODY   SUPER    NOBODY
djstripe.event                   READERS   NOBODY   NOBODY   NOBODY
djstripe.webhookeventtrigger     READERS   NOBODY   NOBODY   NOBODY
djstripe.*                       SUPER     NOBODY   NOBODY   NOBODY
"""
# dj-stripe mirrors Stripe: its rows change only through Stripe (core/admin_site.py,
# docs/architecture.md "Staff"), so nobody adds, changes or deletes them, not even a superuser.
# (table row, role, pages) -> reason. Strict: a listed cell that holds fails the test.
ADMIN_PENDING: dict = {}


# ---------------------------------------------------------------------------------------------
# Parsing the tables
# ---------------------------------------------------------------------------------------------

def _parse_route_matrix():
    rows = {}
    for line in ROUTE_MATRIX.strip().splitlines()[1:]:
        pattern, method, *cells = line.split()
        assert len(cells) == len(ROLES), f"row {pattern!r} has {len(cells)} cells, not {len(ROLES)}"
        pattern = "" if pattern == "<root>" else pattern
        assert pattern not in rows, f"two rows for {pattern!r}"
        rows[pattern] = (method, {role: {int(s) for s in cell.split("|")} for role, cell in zip(ROLES, cells, strict=True)})
    return rows


ROUTE_ROWS = _parse_route_matrix()
ROLE_SETS = {"FINANCE": FINANCE, "READERS": READERS, "SUPPORT": SUPPORT, "SUPER": SUPER, "NOBODY": NOBODY}


def _parse_admin_access():
    rows = {}
    for line in ADMIN_MODEL_ACCESS_TABLE.strip().splitlines()[1:]:
        label, *sets = line.split()
        rows[label] = dict(zip(("view", "add", "change", "delete"), (ROLE_SETS[s] for s in sets), strict=True))
    return rows


ADMIN_ACCESS = _parse_admin_access()


def _segment_match(pattern: str, row: str) -> bool:
    """`*` in a row stands for one path segment (or one regex group's alternatives)."""
    if "*" not in row:
        return pattern == row
    regex = "^" + ".*?".join(re.escape(part) for part in row.split("*")) + "$"
    return re.match(regex, pattern) is not None


def row_for(pattern: str):
    exact = ROUTE_ROWS.get(pattern)
    if exact:
        return pattern
    return next((row for row in ROUTE_ROWS if "*" in row and _segment_match(pattern, row)), None)


def admin_row_for(label: str):
    if label in ADMIN_ACCESS:
        return label
    return next((row for row in ADMIN_ACCESS if fnmatch.fnmatch(label, row)), None)


# ---------------------------------------------------------------------------------------------
# The project's URL patterns
# ---------------------------------------------------------------------------------------------

def _walk(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _admin_model_pages():
    """pattern -> (model label, page) for the pages ModelAdmin.get_urls makes."""
    pages = {}
    for model in admin.site._registry:
        base = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        for pattern, page in (
            ("", "changelist"), ("add/", "add"), ("<path:object_id>/history/", "history"),
            ("<path:object_id>/delete/", "delete"), ("<path:object_id>/change/", "change"),
            ("<path:object_id>/", "redirect"),
        ):
            pages[base + pattern] = (model._meta.label_lower, page)
    return pages


ALL_PATTERNS = [pattern for pattern, _ in _walk(get_resolver())]
ADMIN_MODEL_PAGES = _admin_model_pages()


def test_every_url_pattern_has_a_row():
    missing = [p for p in ALL_PATTERNS if p not in ADMIN_MODEL_PAGES and row_for(p) is None]
    models_without_row = sorted({label for label, _ in ADMIN_MODEL_PAGES.values() if admin_row_for(label) is None})
    assert not missing, "URL patterns with no row in ROUTE_MATRIX (decide who may use them):\n" + "\n".join(missing)
    assert not models_without_row, "admin models with no row in ADMIN_MODEL_ACCESS_TABLE:\n" + "\n".join(models_without_row)


def test_every_row_still_names_a_url_pattern():
    """A row for a route that is gone is a stale promise: delete it."""
    used = {row_for(p) for p in ALL_PATTERNS}
    stale = [row for row in ROUTE_ROWS if row not in used]
    labels = {label for label, _ in ADMIN_MODEL_PAGES.values()}
    stale_admin = [row for row in ADMIN_ACCESS if not any(fnmatch.fnmatch(label, row) for label in labels)]
    assert not stale and not stale_admin, f"rows with no URL pattern: {stale + stale_admin}"
    assert not [key for key in PENDING if key[0] not in ROUTE_ROWS], "PENDING names a row that is gone"


def test_every_admin_model_page_pattern_is_really_there():
    """ADMIN_MODEL_PAGES is built from the registry; check it matches what the resolver has."""
    assert set(ADMIN_MODEL_PAGES) <= set(ALL_PATTERNS)


# ---------------------------------------------------------------------------------------------
# Making the request of a cell
# ---------------------------------------------------------------------------------------------

def _concrete_path(pattern: str, world) -> str:
    """The pattern with this world's values: its order, its listing, its seller."""
    path = re.sub(r"(?<!\.\*)[$]|\^", "", pattern)
    values = {
        "<int:order_id>": world.order.pk,
        "<int:pk>": getattr(world, "saved_search_id", None) or world.listing.pk,
        "<str:pk>": world.listing.pk,
        "<int:listing_id>": world.listing.pk,
        "<str:username>": world["seller"].username,
        "<int:dispute_id>": getattr(world, "dispute_id", 0),
        "<int:warning_id>": getattr(world, "warning_id", 0),
        "<int:conversation_id>": getattr(world, "conversation_id", 0),
        "<int:message_id>": getattr(world, "message_id", 0),
        "<int:offer_id>": getattr(world, "offer_id", 0),
        "<int:report_id>": getattr(world, "report_id", 0),
        "<int:photo_id>": getattr(world, "photo_id", 0),
        "<str:token>": getattr(world, "token", "no-token"),
        "<uidb64>": "MQ",  # a user id; the token below is not one of its reset tokens
        "<token>": "not-a-reset-token",
        "<id>": world["seller"].pk,
        "(?P<path>.*)": "no-such-photo.jpg",
        "(?P<url>.*)": "no-such-page/",
        "<str:action_name>": "_sync_all_instances",
        "<path:content_type_id>": ContentType.objects.get_for_model(world.listing).pk,
        "<path:object_id>": world.listing.pk,
    }
    for placeholder, value in values.items():
        path = path.replace(placeholder, str(value))
    path = re.sub(r"\(\?P<app_label>[^)]*\)", "payments", path)
    if "<str:model_name>" in path:  # dj-stripe's action: admin/djstripe/<model>/action/…
        path = path.replace("<str:model_name>", path.split("/")[2])
    assert "<" not in path and "(?" not in path, f"no value for a parameter of {pattern}"
    return "/" + path


def _prepare(pattern: str, world, settings):
    """Put the world in the state the route acts on."""
    from payments.services.fulfilment import order_complete

    order = world.order if "order_id>" in pattern else None
    if pattern.endswith(("/complete/", "/feedback/", "/feedback/reply/")):
        order_ship(order_id=order.pk, seller=world["seller"], tracking_number="1Z999")
    if pattern.endswith(("/feedback/", "/feedback/reply/")):
        order_complete(order_id=order.pk, buyer=world["buyer"])
    if pattern.endswith("/feedback/reply/"):
        from ratings.services import feedback_leave

        feedback_leave(order_id=order.pk, buyer=world["buyer"], rating=4, comment="fine")
    if "dispute" in pattern:
        world.dispute_id = _dispute_for(world).pk
    if "earlyfraudwarning" in pattern:
        from payments.models import EarlyFraudWarning

        world.warning_id = EarlyFraudWarning.objects.create(
            stripe_warning_id=f"issfr_matrix{world.order.pk}", order=world.order,
            stripe_account_id=world.order.stripe_account_id, charge_id="ch_matrix", fraud_type="misc",
        ).pk
    if pattern == "payments/orders/<int:order_id>/relist/":
        # A shipped order refunded in full: its stub stays sold until the seller puts it back.
        from django.utils import timezone

        type(order).objects.filter(pk=order.pk).update(status="refunded", shipped_at=timezone.now())
        type(order.listing).objects.filter(pk=order.listing_id).update(status="sold")
    elif pattern.endswith("/relist/"):
        world.listing.status = "withdrawn"
        world.listing.save(update_fields=["status"])
    if pattern.startswith("listings/<int:pk>/photos/"):
        from marketplace.photos import stub_photos_add
        from marketplace.tests.images import image_upload

        stub_photos_add(listing_id=world.listing.pk, seller=world["seller"],
                        files=[image_upload(), image_upload()])
    if pattern.startswith("saved-searches/<int:pk>"):
        from django.http import QueryDict

        from marketplace.watchlist import saved_search_create

        world.saved_search_id = saved_search_create(user=world["buyer"], params=QueryDict("q=beatles")).pk
    if pattern.startswith("unsubscribe/"):
        from marketplace.watchlist import unsubscribe_token, watch_add

        watch = watch_add(user=world["buyer"], listing_id=world.listing.pk)
        world.token = unsubscribe_token(kind="watch", pk=watch.pk)
    if "conversation_id>" in pattern or "message_id>" in pattern:
        world.conversation_id, world.message_id = _conversation_for(world)
    if pattern == "orders/<int:order_id>/messages/" and not order.paid_at:
        from django.utils import timezone

        type(order).objects.filter(pk=order.pk).update(status="paid", paid_at=timezone.now())
    if "offer" in pattern and pattern != "offers/":
        # The listing takes offers; the buyer's $30.00 offer on it waits for the seller.
        from offers.services import offer_make

        type(world.listing).objects.filter(pk=world.listing.pk).update(offers_enabled=True)
        if "<int:offer_id>" in pattern:
            world.offer_id = offer_make(listing_id=world.listing.pk, buyer=world["buyer"], amount_cents=3000).pk
    if "report_id>" in pattern:
        world.report_id, world.photo_id = _problem_report_for(world)
    if pattern == "metrics":  # a session is no key to the metrics: only the bearer token is
        settings.METRICS_TOKEN = "metrics-token-for-the-matrix"


def _conversation_for(world) -> tuple[int, int]:
    """The order's conversation with the buyer's first message in it."""
    from messaging.models import Conversation, Message, Participant

    order = world.order
    conversation = Conversation.objects.create(kind="order", order=order, listing=order.listing,
                                               buyer=world["buyer"], seller=world["seller"])
    for party in (world["buyer"], world["seller"]):
        Participant.objects.create(conversation=conversation, user=party)
    message = Message.objects.create(conversation=conversation, sender=world["buyer"], body="Shipped yet?")
    return conversation.pk, message.pk


def _problem_report_for(world) -> tuple[int, int]:
    """The buyer's report on the order, its seller's time to answer over (so the buyer may
    escalate), with one photo ready."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from marketplace.tests.images import image_bytes
    from messaging.services import order_conversation_open
    from problems.models import ProblemPhoto, ProblemReport

    order = world.order
    conversation = order_conversation_open(order_id=order.pk, user=world["buyer"])
    report = ProblemReport.objects.create(
        order=order, buyer=world["buyer"], seller=world["seller"], kind="not_received",
        description="It never came.", conversation=conversation,
        seller_due_at=timezone.now() - datetime.timedelta(hours=1),
    )
    photo = ProblemPhoto(report=report, state="ready")
    photo.upload.save("matrix.jpg", ContentFile(image_bytes("JPEG", (40, 30))), save=False)
    photo.image.save("matrix.jpg", ContentFile(image_bytes("JPEG", (40, 30))), save=False)
    photo.thumbnail.save("matrix.webp", ContentFile(image_bytes("WEBP", (40, 30))), save=False)
    photo.save()
    return report.pk, photo.pk


def _dispute_for(world):
    from django.utils import timezone

    from disputes.models import Dispute

    order = world.order
    return Dispute.objects.create(
        stripe_dispute_id=f"dp_matrix{order.pk}", order=order, stripe_account_id=order.stripe_account_id,
        charge_id="ch_matrix", amount_cents=order.amount_cents, reason="fraudulent", status="needs_response",
        evidence_due_by=timezone.now() + datetime.timedelta(days=7),
    )


def _body(pattern: str, world) -> dict:
    if pattern == "payments/create-payment-intent/":
        return {"listing_id": world.listing.pk, **shipping_address()}
    if pattern.endswith("/ship/"):
        return {"tracking_number": "1Z999AA10123456784"}
    if pattern.endswith("/refund/"):
        return {"amount": 500}
    if pattern.endswith("/feedback/"):
        return {"rating": 5, "comment": "Arrived as described."}
    if pattern.endswith("/feedback/reply/"):
        return {"reply": "Thank you!"}
    if pattern.endswith("/send/"):
        return {"body": "Thanks, I will wait for the tracking number."}
    if pattern.startswith("messages/report/"):
        return {"reason": "Rude"}
    if pattern == "problems/<int:report_id>/reply/":
        return {"body": "It left on Monday with tracking."}
    if pattern.startswith("offers/<int:offer_id>/") or pattern.endswith("/offer/"):
        return {"amount": "35.00" if pattern.endswith("/counter/") else "30.00"}
    if pattern.endswith("/dispute/"):
        return {"note": "Shipped with tracking.", "tracking_number": "1Z999AA10123456784"}
    if pattern.endswith("/dispute/files/"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return {"kind": "receipt", "file": SimpleUploadedFile("receipt.pdf", b"%PDF-1.4\n%%EOF\n")}
    if pattern.endswith("/photos/move/"):
        return {"slot": "1", "direction": "up"}
    if pattern.endswith("/photos/delete/"):
        return {"slot": "1"}
    if pattern.startswith("payments/webhook"):  # unsigned: the signature is the authorization
        return {"id": "evt_unsigned", "object": "event", "type": "payment_intent.succeeded",
                "data": {"object": {"id": "pi_x", "object": "payment_intent"}}}
    return {}


def send(client: Client, method: str, path: str, body: dict, query: str = ""):
    target = f"{path}?{query}" if query else path
    if method == "GET":
        return client.get(target, HTTP_ACCEPT="text/html")
    if method == "GETJSON":
        return client.get(target, HTTP_ACCEPT="application/json")
    if method == "POST":
        return client.post(target, body, HTTP_ACCEPT="text/html")
    assert method == "JSON", method
    return client.post(target, json.dumps(body), content_type="application/json", HTTP_ACCEPT="application/json")


def _cells():
    for pattern in ALL_PATTERNS:
        if pattern in ADMIN_MODEL_PAGES:
            continue
        row = row_for(pattern)
        if row is None:
            continue  # test_every_url_pattern_has_a_row fails for it
        for role in ROLES:
            reason = PENDING.get((row, role))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(pattern, row, role, id=f"{pattern or '<root>'} {role}", marks=marks)


@pytest.mark.parametrize(("pattern", "row", "role"), list(_cells()))
def test_route_cell(pattern, row, role, stripe_sandbox, support_limit, no_rate_limits, settings):
    # A real charge to refund; a real account to upload a dispute's file to.
    world = build_world(stripe_sandbox, paid=pattern.endswith(("/refund/", "/dispute/files/")))
    _prepare(pattern, world, settings)
    method, expected = ROUTE_ROWS[row]
    query = f"listing_id={world.listing.pk}" if pattern.endswith("payment-compatibility/") else ""

    response = send(world.client_for(role), method, _concrete_path(pattern, world), _body(pattern, world), query)

    assert response.status_code in expected[role], (
        f"{role} {method} /{pattern}: {response.status_code}, expected {expected[role]}: "
        f"{response.content[:300]!r}"
    )
    _effect_check(pattern, world, role, response)


def _effect_check(pattern: str, world, role: str, response):
    """Where a refused request could still have done harm, check that it did not (and that the
    allowed one did): a status alone can lie."""
    if pattern.endswith("/refund/") and pattern.startswith("payments/"):
        refunds = [e for e in world.sandbox.events(type="refund.created")
                   if e["data"]["object"]["payment_intent"] == world.order.payment_intent_id]
        assert len(refunds) == (1 if response.status_code == 201 else 0), (role, len(refunds))
    elif pattern.startswith("problems/<int:report_id>/") and pattern.count("/") == 3:
        from problems.models import ProblemReport

        report = ProblemReport.objects.get(pk=world.report_id)
        moved = report.status != "awaiting_seller" or report.order.refunds.exists()
        assert moved == (response.status_code in (200, 201)), (role, report.status)
    elif pattern.endswith("/ship/"):
        world.order.refresh_from_db()
        assert (world.order.shipped_at is not None) == (response.status_code == 200), role
    elif pattern.endswith("/dispute/files/"):
        from disputes.models import DisputeEvidenceFile

        assert DisputeEvidenceFile.objects.exists() == (response.status_code == 302), role
    elif pattern == "payments/orders/<int:order_id>/relist/":
        world.order.listing.refresh_from_db()
        assert (world.order.listing.status == "active") == (response.status_code == 200), role
    elif pattern.startswith("offers/<int:offer_id>/") and pattern != "offers/<int:offer_id>/":
        from offers.models import Offer

        moved = {"accept/": "accepted", "decline/": "declined", "counter/": "countered", "withdraw/": "withdrawn"}
        status = Offer.objects.get(pk=world.offer_id).status
        done = response.status_code == 200
        assert status == (moved[pattern.rsplit("/", 2)[-2] + "/"] if done else "pending"), (role, status)
    elif pattern.endswith("/withdraw/"):
        world.listing.refresh_from_db()
        assert (world.listing.status == "withdrawn") == (role == "seller"), role
    elif pattern.endswith("/send/") and pattern.startswith("messages/"):
        from messaging.models import Message

        assert Message.objects.count() == (2 if response.status_code == 201 else 1), role
    elif pattern.startswith("messages/report/"):
        from messaging.models import MessageReport

        assert MessageReport.objects.exists() == (response.status_code == 201), role
    elif pattern == "listings/<int:listing_id>/offer/":
        from offers.models import Offer

        assert Offer.objects.exists() == (response.status_code == 201), role
    elif pattern.startswith("saved-searches/<int:pk>"):
        from marketplace.models import SavedSearch

        assert SavedSearch.objects.filter(pk=world.saved_search_id).exists() == (role != "buyer"), role


# ---------------------------------------------------------------------------------------------
# Admin model pages
# ---------------------------------------------------------------------------------------------

ADMIN_PAGE_SUFFIX = {
    "changelist": "", "add": "add/", "history": "{pk}/history/", "delete": "{pk}/delete/",
    "change": "{pk}/change/", "redirect": "{pk}/",
}


def admin_expected(row: str, page: str, role: str, *, exists: bool) -> int:
    """Django admin's rules applied to the table: login page for non-staff, 403 without the
    permission, 302 to the index for an object that does not exist, else the page."""
    if role not in ("staff", "support", "finance", "super"):
        return 302
    if page == "redirect":
        return 302
    access = ADMIN_ACCESS[row]
    if page == "history" and not exists:
        return 302  # Django looks the object up before it checks the permission
    needed = {"changelist": "view", "history": "view", "change": "view", "add": "add", "delete": "delete"}[page]
    allowed = role in access[needed] or (needed == "view" and role in access["change"])
    if not allowed:
        return 403
    if page in ("change", "delete") and not exists:
        return 302
    return 200


@pytest.fixture
def paid_world(paid_order, webhook_sandbox):
    """A world whose order is the shared sandbox purchase (security/world.py's world_around)."""
    return world_around(webhook_sandbox, paid_order)


@pytest.mark.parametrize("label", sorted({label for label, _ in ADMIN_MODEL_PAGES.values()}))
def test_admin_model_pages(label, paid_world, support_limit):
    """One model's six pages for the nine roles (54 cells). One world per model (a paid sandbox
    order, so dj-stripe has mirrored rows), so the roles are looped here rather than one test
    each; ADMIN_PENDING is strict by hand: a pending cell that holds fails the test."""
    row = admin_row_for(label)
    assert row is not None, f"no row for {label} in ADMIN_MODEL_ACCESS_TABLE"
    model = next(m for m in admin.site._registry if m._meta.label_lower == label)
    world = paid_world  # its purchase made dj-stripe's rows
    _dispute_for(world)  # and a dispute, so its pages have an object too
    obj = model._default_manager.order_by("pk").first()
    pk = obj.pk if obj is not None else "0"
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    wrong, pending_seen, pending_holding = [], [], []
    for role in ROLES:
        client = world.client_for(role)
        for page, suffix in ADMIN_PAGE_SUFFIX.items():
            expected = admin_expected(row, page, role, exists=obj is not None)
            got = client.get(base + suffix.format(pk=pk), HTTP_ACCEPT="text/html").status_code
            pending = admin_pending(row, role, page)
            cell = f"{role} {page}: {got}, expected {expected}"
            if pending and got != expected:
                pending_seen.append(f"{cell} ({pending})")
            elif pending:
                pending_holding.append(f"{cell}: delete it from ADMIN_PENDING")
            elif got != expected:
                wrong.append(cell)
    where = f"{label} ({'object ' + str(pk) if obj else 'no object'})"
    assert not wrong, f"{where}: " + "; ".join(wrong)
    assert not pending_holding, f"{where}, pending cells that now hold: " + "; ".join(pending_holding)
    if pending_seen:
        pytest.xfail(f"{where}: " + "; ".join(pending_seen))


def admin_pending(row: str, role: str, page: str) -> str | None:
    for (pending_row, pending_role, pages), reason in ADMIN_PENDING.items():
        if pending_row == row and pending_role == role and page in pages:
            return reason
    return None


# ---------------------------------------------------------------------------------------------
# Two cells the route table cannot hold: an amount above Support's limit, and a POST that acts
# ---------------------------------------------------------------------------------------------

ABOVE_SUPPORT_LIMIT = {  # role -> statuses, for {"amount": SUPPORT_LIMIT_CENTS + 1000}
    # Support's request waits for Finance (202, nothing refunded): see the approve action below.
    "seller": {201}, "staff": {403, 404}, "support": {202}, "finance": {201}, "super": {201},
}


@pytest.mark.parametrize("role", list(ABOVE_SUPPORT_LIMIT))
def test_a_refund_above_the_support_limit(role, paid_world, support_limit, no_rate_limits):
    world = paid_world
    body = {"amount": support_limit + 1000}

    response = send(world.client_for(role), "JSON", f"/payments/orders/{world.order.pk}/refund/", body)

    assert response.status_code in ABOVE_SUPPORT_LIMIT[role], (role, response.status_code, response.content[:300])
    _effect_check("payments/orders/<int:order_id>/refund/", world, role, response)


# Finance's to-do list: the "approve" admin action on Support's refund request, as its
# confirmation page's POST (a POST to the changelist with "confirm"). role -> (status, whether the
# refund is made). Support has no action on that list, so Django admin shows the list again (200)
# and does nothing.
APPROVE_REFUND_REQUEST = {
    "anon": (302, False), "buyer": (302, False), "buyer2": (302, False), "seller": (302, False),
    "seller2": (302, False), "staff": (403, False), "support": (200, False), "finance": (302, True),
    "super": (302, True),
}


@pytest.mark.parametrize("role", list(APPROVE_REFUND_REQUEST))
def test_only_finance_approves_supports_refund_request(role, paid_world, support_limit, no_rate_limits):
    from payments.models import RefundApproval, RefundApprovalStatus
    from payments.services.refunds import refund_request

    world = paid_world
    approval = refund_request(
        order_id=world.order.pk, actor=world["support"], amount_cents=support_limit + 1000
    )
    assert isinstance(approval, RefundApproval)
    status, refunded = APPROVE_REFUND_REQUEST[role]

    response = world.client_for(role).post(
        "/admin/payments/refundapproval/",
        {"action": "approve", "_selected_action": [approval.pk], "confirm": "1"},
    )

    approval.refresh_from_db()
    assert response.status_code == status, (role, response.status_code)
    assert (approval.status == RefundApprovalStatus.APPROVED) == refunded, role
    made = [e for e in world.sandbox.events(type="refund.created")
            if e["data"]["object"]["payment_intent"] == world.order.payment_intent_id]
    assert len(made) == (1 if refunded else 0), role


def test_staff_without_permissions_cannot_run_a_stripe_mirror_action(stripe_sandbox):
    """The confirmation form's POST would run `djstripe_sync_models` (every Charge read from
    Stripe); the mirror is read-only for everybody, so nobody may (any is_staff user could, until
    68ba3e8)."""
    world = build_world(stripe_sandbox, paid=False)

    response = world.client_for("staff").post(
        "/admin/djstripe/charge/action/_sync_all_instances/charge/",
        {"_selected_action": "_sync_all_instances"},
    )

    assert response.status_code == 403
