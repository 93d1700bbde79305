"""The one module that talks to the Stripe SDK.

Every call goes through `stripe_call`, which sets the API key, the connected account
(`stripe_account=`), the idempotency key, and records an AuditEvent; Stripe's failures
become DomainErrors the pages and JSON routes know how to show. The API host, timeout and
network retries are set once in `configure()` (PaymentsConfig.ready): offline they point at
stripe_sandbox, with real keys at Stripe, and the project code is the same either way.
"""

import io
import logging
import unicodedata
from collections.abc import Callable
from typing import Any

import stripe
from django.conf import settings

from core.errors import DomainError, PaymentProviderError
from payments.idempotency import order_idempotency_key
from payments.services.audit import audit_record

logger = logging.getLogger(__name__)


class CardDeclined(DomainError):
    code = "card_declined"
    status = 402
    message = "The card was declined."


class StripeRefused(DomainError):
    """Stripe answered 4xx: the request itself cannot succeed (Stripe's message says why)."""

    code = "stripe_refused"
    status = 409
    message = "Stripe refused the request."

    def __init__(self, message: str | None = None, *, stripe_code: str = "", param: str = "", **kwargs):
        super().__init__(message, **kwargs)
        self.stripe_code = stripe_code
        self.param = param  # the parameter Stripe named, e.g. "evidence[receipt]"


def plain(obj) -> dict:
    """A Stripe answer (StripeObject or an expanded field) as a plain dict; {} for None."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj or {})


def object_id(value) -> str:
    """The id of a field Stripe sends either as an id or, when expanded, as the object."""
    if isinstance(value, dict):
        return value.get("id") or ""
    return value or ""


def configure() -> None:
    stripe.api_key = settings.STRIPE_SECRET_KEY
    stripe.api_base = settings.STRIPE_API_HOST.rstrip("/")
    stripe.connect_api_base = stripe.api_base
    stripe.upload_api_base = settings.STRIPE_UPLOAD_API_HOST.rstrip("/")
    stripe.max_network_retries = settings.STRIPE_MAX_NETWORK_RETRIES
    stripe.default_http_client = stripe.new_default_http_client(timeout=settings.STRIPE_TIMEOUT_SECONDS)


def stripe_call(
    operation: str,
    method: Callable[..., Any],
    *,
    actor=None,
    order=None,
    subject_user=None,
    stripe_account: str | None = None,
    idempotency_key: str | None = None,
    **params: Any,
):
    """Call one SDK method, audit it, and translate Stripe's errors.

    `operation` names the call in the audit trail ("account.create", "payment_intent.create").
    """
    options: dict[str, Any] = {"api_key": settings.STRIPE_SECRET_KEY}
    if stripe_account:
        options["stripe_account"] = stripe_account
    if idempotency_key:
        options["idempotency_key"] = idempotency_key
    audit = {
        "actor": actor,
        "order": order,
        "subject_user": subject_user,
        "action": f"stripe.{operation}",
        "data": {"stripe_account": stripe_account or "", "idempotency_key": idempotency_key or ""},
    }
    try:
        result = method(**params, **options)
    except stripe.CardError as exc:
        audit_record(**audit, message=f"card error: {exc.code}")
        raise CardDeclined(exc.user_message or CardDeclined.message) from exc
    except (stripe.InvalidRequestError, stripe.IdempotencyError, stripe.PermissionError) as exc:
        # Stripe answered and refused (amount_too_large, charge_disputed, a reused idempotency
        # key, an account we may not act on, …): a 4xx with its own words, not "the provider did
        # not answer", and not worth retrying with the same input. Rejected parameters are a 400,
        # refusals given the state of things a 409.
        # stripe-python leaves `code` empty on a 403 (PermissionError); the body still has it.
        body = exc.json_body if isinstance(exc.json_body, dict) else {}
        code = exc.code or str((body.get("error") or {}).get("code") or "")
        logger.warning("Stripe %s refused: %s (request %s)", operation, code, exc.request_id)
        audit["data"]["http_status"] = exc.http_status
        refusal = f"refused: {code or 'invalid_request'}: {exc.user_message or ''}"
        audit_record(**audit, message=refusal[:500])
        status = 400 if code.startswith("parameter_") else 409
        raise StripeRefused(exc.user_message or StripeRefused.message, stripe_code=code,
                            param=getattr(exc, "param", None) or "", status=status) from exc
    except stripe.StripeError as exc:
        logger.warning("Stripe %s failed: %s (request %s)", operation, type(exc).__name__, exc.request_id)
        # The status tells a 5xx (Stripe keeps it under the key: payments.idempotency moves on)
        # from a timeout (no status: the same key may return what Stripe did).
        audit["data"]["http_status"] = exc.http_status
        audit_record(**audit, message=f"failed: {type(exc).__name__}: {exc.user_message or ''}"[:500])
        raise PaymentProviderError() from exc
    audit_record(**audit, message=f"ok {getattr(result, 'id', '')}".strip())
    return result


# -- Connect: Express accounts of sellers (seller onboarding, connect/services/) --


def account_create(*, actor=None, subject_user=None, idempotency_key: str | None = None, **params: Any):
    return stripe_call(
        "account.create", stripe.Account.create,
        actor=actor, subject_user=subject_user, idempotency_key=idempotency_key, **params,
    )


def account_retrieve(account_id: str, *, actor=None, subject_user=None):
    return stripe_call(
        "account.retrieve", stripe.Account.retrieve, actor=actor, subject_user=subject_user, id=account_id
    )


def account_modify(account_id: str, *, actor=None, subject_user=None, **params: Any):
    return stripe_call(
        "account.update", stripe.Account.modify,
        actor=actor, subject_user=subject_user, id=account_id, **params,
    )


def account_link_create(*, account_id: str, refresh_url: str, return_url: str, actor=None, subject_user=None,
                        collection_options: dict | None = None):
    # Express accounts take only account_onboarding links (account_update is refused for accounts
    # with a Stripe-hosted dashboard); collection_options widens what that form asks for.
    return stripe_call(
        "account_link.create", stripe.AccountLink.create,
        actor=actor, subject_user=subject_user,
        account=account_id, refresh_url=refresh_url, return_url=return_url, type="account_onboarding",
        **({"collection_options": collection_options} if collection_options else {}),
    )


def login_link_create(*, account_id: str, actor=None, subject_user=None):
    return stripe_call(
        "login_link.create", stripe.Account.create_login_link,
        actor=actor, subject_user=subject_user, account=account_id,
    )


def balance_retrieve(*, account_id: str, actor=None, subject_user=None):
    return stripe_call(
        "balance.retrieve", stripe.Balance.retrieve,
        actor=actor, subject_user=subject_user, stripe_account=account_id,
    )


def payout_list(*, account_id: str, limit: int = 10, actor=None, subject_user=None):
    """The account's latest payouts, newest first (GET /v1/payouts on the connected account)."""
    return stripe_call(
        "payout.list", stripe.Payout.list,
        actor=actor, subject_user=subject_user, stripe_account=account_id, limit=limit,
    )


def sandbox_in_process():
    """The stripe_sandbox.Sandbox the SDK is wired to in-process (tests), else None.

    Lets demo tooling open the sandbox's own pages (onboarding) without a socket.
    """
    return getattr(stripe.default_http_client, "sandbox", None)


# -- Checkout: PaymentIntents, direct charges on the seller's account (payments/services/checkout.py) --


# A card statement reads "<the seller's prefix>* <suffix>" in at most 22 Latin characters, with
# no < > \ ' " *, and a suffix holding a letter; the prefix (the seller's own, on a direct
# charge) has 2 to 10, so a suffix of 10 always fits
# (https://docs.stripe.com/get-started/account/statement-descriptors).
STATEMENT_DESCRIPTOR_SUFFIX_MAX = 22 - 10 - len("* ")


def statement_descriptor_suffix_for(name: str) -> str:
    """The seller's shop name as a statement descriptor suffix: accents folded to ASCII, only
    letters, digits and spaces kept, upper case, cut to fit; "" when no letter is left."""
    ascii_name = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    kept = "".join(ch if ch.isalnum() else " " for ch in ascii_name)
    suffix = " ".join(kept.split()).upper()[:STATEMENT_DESCRIPTOR_SUFFIX_MAX].strip()
    return suffix if any(ch.isalpha() for ch in suffix) else ""


def payment_intent_create(*, order, actor=None):
    """The PaymentIntent for `order` on the seller's account, for the order's amount and fee.

    The idempotency key comes from the order (and the deployment, payments.idempotency), so a
    retry after a timeout (the SDK's own network retries, or the buyer asking again) returns the
    same PaymentIntent instead of a second one; after a Stripe 5xx the next try uses a new key.
    """
    params: dict[str, Any] = {
        "amount": order.amount_cents,
        "currency": order.currency,
        "application_fee_amount": order.application_fee_cents,
        "payment_method_types": ["card"],
        "metadata": {
            "order_id": str(order.pk),
            "listing_id": str(order.listing_id),
            "buyer_id": str(order.buyer_id),
        },
        "description": f"Stub Collector order #{order.pk}",
    }
    suffix = statement_descriptor_suffix_for(order.seller.display_name)
    if suffix:
        params["statement_descriptor_suffix"] = suffix
    if order.buyer.email:
        params["receipt_email"] = order.buyer.email
    return stripe_call(
        "payment_intent.create", stripe.PaymentIntent.create,
        actor=actor, order=order, stripe_account=order.stripe_account_id,
        idempotency_key=order_idempotency_key(order=order, operation="payment_intent-create"), **params,
    )


def payment_intent_retrieve(*, order, actor=None):
    return stripe_call(
        "payment_intent.retrieve", stripe.PaymentIntent.retrieve,
        actor=actor, order=order, stripe_account=order.stripe_account_id, id=order.payment_intent_id,
    )


def payment_intent_cancel(*, order, actor=None, reason: str = "abandoned"):
    return stripe_call(
        "payment_intent.cancel", stripe.PaymentIntent.cancel,
        actor=actor, order=order, stripe_account=order.stripe_account_id,
        idempotency_key=order_idempotency_key(order=order, operation="payment_intent-cancel"),
        intent=order.payment_intent_id, cancellation_reason=reason,
    )


def payment_intent_confirm_test_card(*, order, payment_method: str, actor=None):
    """Confirm the order's PaymentIntent with a test PaymentMethod (`pm_card_visa`), as Stripe.js
    does in the buyer's browser: for demo data only (demo.orders), never live."""
    if settings.STRIPE_LIVE_MODE:
        raise StripeRefused("Test cards are refused with live keys.", stripe_code="livemode_mismatch")
    return stripe_call(
        "payment_intent.confirm", stripe.PaymentIntent.confirm,
        actor=actor, order=order, stripe_account=order.stripe_account_id,
        intent=order.payment_intent_id, payment_method=payment_method,
    )


# -- Webhooks and refunds (payments/services/payment_events.py, payments/services/refunds.py) --
# The webhook handlers re-read the object an event names instead of trusting the event's copy,
# which may be stale or arrive out of order.


def payment_intent_fetch(*, payment_intent_id: str, stripe_account: str, order=None):
    """The PaymentIntent with its latest charge expanded (amounts refunded, 3-D Secure)."""
    return stripe_call(
        "payment_intent.retrieve", stripe.PaymentIntent.retrieve,
        order=order, stripe_account=stripe_account, id=payment_intent_id, expand=["latest_charge"],
    )


def charge_fetch(*, charge_id: str, stripe_account: str, order=None):
    return stripe_call(
        "charge.retrieve", stripe.Charge.retrieve,
        order=order, stripe_account=stripe_account, id=charge_id,
    )


def dispute_fetch(*, dispute_id: str, stripe_account: str, order=None):
    return stripe_call(
        "dispute.retrieve", stripe.Dispute.retrieve,
        order=order, stripe_account=stripe_account, id=dispute_id,
    )


def early_fraud_warning_fetch(*, warning_id: str, stripe_account: str, order=None):
    return stripe_call(
        "early_fraud_warning.retrieve", stripe.radar.EarlyFraudWarning.retrieve,
        order=order, stripe_account=stripe_account, id=warning_id,
    )


def application_fee_fetch(*, fee_id: str, order=None):
    """Application fees live on the platform account, even for a direct charge's fee."""
    return stripe_call("application_fee.retrieve", stripe.ApplicationFee.retrieve, order=order, id=fee_id)


def refund_create(*, order, amount_cents: int, idempotency_key: str, actor=None, charge_id: str = "",
                  reason: str | None = None, metadata: dict | None = None):
    """Refund on the seller's account; the platform fee goes back in proportion."""
    target = {"charge": charge_id} if charge_id else {"payment_intent": order.payment_intent_id}
    params = {"reason": reason} if reason else {}
    return stripe_call(
        "refund.create", stripe.Refund.create,
        actor=actor, order=order, stripe_account=order.stripe_account_id,
        idempotency_key=idempotency_key, amount=amount_cents, refund_application_fee=True,
        metadata={"order_id": str(order.pk), **(metadata or {})}, **target, **params,
    )


def refund_list(*, payment_intent_id: str, stripe_account: str, order=None) -> list:
    """Every refund of a payment as Stripe has it now (a charge holds at most a few)."""
    page = stripe_call(
        "refund.list", stripe.Refund.list,
        order=order, stripe_account=stripe_account, payment_intent=payment_intent_id, limit=100,
    )
    return list(page.auto_paging_iter())


# -- Disputes: staff answer or accept on the seller's account (disputes/services.py) --


def dispute_update(*, dispute, evidence: dict, submit: bool, actor=None):
    """Stage (`submit=False`) or submit (`submit=True`) evidence on the seller's account.

    No idempotency key of our own: the same evidence sent twice stages the same thing, and the
    SDK adds its own key to its network retries. https://docs.stripe.com/api/disputes/update
    """
    return stripe_call(
        "dispute.update", stripe.Dispute.modify,
        actor=actor, order=dispute.order, stripe_account=dispute.stripe_account_id,
        id=dispute.stripe_dispute_id, evidence=evidence, submit=submit,
    )


def dispute_close(*, dispute, actor=None):
    """Accept the dispute: Stripe closes it as lost. https://docs.stripe.com/api/disputes/close"""
    return stripe_call(
        "dispute.close", stripe.Dispute.close,
        actor=actor, order=dispute.order, stripe_account=dispute.stripe_account_id,
        dispute=dispute.stripe_dispute_id,
    )


def dispute_evidence_file_create(*, dispute, content: bytes, filename: str, actor=None):
    """Upload one evidence document with Stripe's Files API (`purpose=dispute_evidence`) on the
    seller's account, where the dispute is; stripe-python posts it as multipart to
    `stripe.upload_api_base` (`configure()`). https://docs.stripe.com/api/files/create"""
    upload = io.BytesIO(content)
    upload.name = filename  # the multipart part's filename, which Stripe keeps as `filename`
    return stripe_call(
        "file.create", stripe.File.create,
        actor=actor, order=dispute.order, stripe_account=dispute.stripe_account_id,
        purpose="dispute_evidence", file=upload,
    )


# -- Webhook endpoints: `manage.py stripe_setup_webhooks` (payments/services/webhook_setup.py) --


def webhook_endpoint_list() -> list:
    """Every webhook endpoint of the platform account. https://docs.stripe.com/api/webhook_endpoints/list"""
    page = stripe_call("webhook_endpoint.list", stripe.WebhookEndpoint.list, limit=100)
    return list(page.auto_paging_iter())


def webhook_endpoint_create(*, url: str, enabled_events: list[str], connect: bool, description: str):
    """The answer carries the signing secret, once. https://docs.stripe.com/api/webhook_endpoints/create

    The endpoint is pinned to the API version of the stripe-python we run (`stripe.api_version`):
    without one Stripe sends events in the account's default version, which dj-stripe and our
    handlers were not written against, and it changes whenever the account is upgraded."""
    return stripe_call(
        "webhook_endpoint.create", stripe.WebhookEndpoint.create,
        url=url, enabled_events=enabled_events, connect=connect, description=description,
        api_version=stripe.api_version,
    )


def webhook_endpoint_update(*, endpoint_id: str, enabled_events: list[str]):
    """Change the events and enable it; the signing secret stays as it is."""
    return stripe_call(
        "webhook_endpoint.update", stripe.WebhookEndpoint.modify,
        id=endpoint_id, enabled_events=enabled_events, disabled=False,
    )


# -- Reconciliation: Stripe's lists, one page at a time (reconciliation/services/run.py) --

# What `reconcile_stripe` reads, by the kind of object: each list is newest first, in pages of
# at most 100, cut into `created` windows (https://docs.stripe.com/api/pagination).
RECONCILED_LISTS = {
    "payment_intent": stripe.PaymentIntent.list,
    "charge": stripe.Charge.list,
    "refund": stripe.Refund.list,
    "dispute": stripe.Dispute.list,
    "application_fee": stripe.ApplicationFee.list,
}


def object_list_page(*, kind: str, stripe_account: str | None, created_gte: int, created_lt: int,
                     starting_after: str = "", limit: int = 100, **filters: Any):
    """One page of a kind's objects created in [created_gte, created_lt), after the cursor.
    Application fees are the platform's (`stripe_account=None`), even for a seller's charge."""
    cursor = {"starting_after": starting_after} if starting_after else {}
    return stripe_call(
        f"{kind}.list", RECONCILED_LISTS[kind], stripe_account=stripe_account, limit=limit,
        created={"gte": created_gte, "lt": created_lt}, **cursor, **filters,
    )


def fee_refund_list(*, fee_id: str) -> list:
    """Every refund of one application fee (the fee carries only its 10 newest), paged by 100.
    https://docs.stripe.com/api/fee_refunds/list"""
    page = stripe_call("fee_refund.list", stripe.ApplicationFee.list_refunds, id=fee_id, limit=100)
    return list(page.auto_paging_iter())


def application_fee_for_charge(*, charge_id: str):
    """The platform's fee taken on one charge, or None when Stripe has none."""
    page = stripe_call("application_fee.list", stripe.ApplicationFee.list, charge=charge_id, limit=1)
    return page.data[0] if page.data else None
