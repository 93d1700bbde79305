"""Seller onboarding with Stripe Connect Express, and the seller's Stripe state on the User.

Every Stripe call goes through `payments.stripe_api` (timeout, audit row, errors turned into
`PaymentProviderError`). Stripe's redirect back to us proves nothing: the state stored on the
user always comes from an account object read from Stripe (the return page re-reads it) or
delivered in an `account.updated` event, through `seller_sync_account`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import StripeAccountStatus, User
from accounts.services import user_become_seller
from connect.services.payouts import (
    _payout_schedule_already_set,
)
from connect.services.rules import (
    NOT_A_SELLER_MESSAGE,
    SELLER_COUNTRY,
    AccountState,
    NoStripeAccount,
    NotASeller,
    as_dict,
    losses_liable_from,
    require_account,
    requirements_in_plain_words,
    seller_country_check,
)
from core.errors import Conflict
from core.queue import enqueue_on_commit
from core.site import absolute_url
from marketplace.pricing import EXPRESS_DIRECT_CHARGES_CONTROLLER
from payments import stripe_api
from payments.services.audit import audit_record

# Hobby, toy and game shops: the closest merchant category for collectible stubs.
SELLER_MCC = "5945"
SELLER_PRODUCT_DESCRIPTION = "Collectible ticket stubs sold through the Stub Collector marketplace."


# -- onboarding --------------------------------------------------------------------------------


def seller_public_url(*, user: User) -> str:
    return absolute_url(f"/sellers/{user.username}/")


def is_public_url(url: str) -> bool:
    """False for a development address (localhost, 127.x, ::1), which real Stripe refuses as
    business_profile[url]: the seller then types their own on Stripe's form instead."""
    host = (urlsplit(url).hostname or "").lower()
    return bool(host) and not (
        host in ("localhost", "::1", "0.0.0.0") or host.endswith(".localhost") or host.startswith("127.")
    )


def seller_become(*, user: User) -> User:
    """A buyer becomes a seller the first time they start onboarding: accounts' one rule
    (user_become_seller), keeping the country and bio on their profile."""
    if not user.is_seller:
        user_become_seller(user=user)
    return user


def seller_became_audit(sender, *, user: User, **kwargs) -> None:
    """accounts.signals.seller_became (from the profile or from onboarding): on the audit trail."""
    audit_record(action="connect.seller_became", actor=user, subject_user=user, to_status="seller")


def seller_ensure_account(*, user: User, actor=None) -> str:
    """The seller's Express account id: the one they have, or a new one made now (also when the
    one they had was disconnected from the platform).

    The account is made with explicit controller properties (EXPRESS_DIRECT_CHARGES_CONTROLLER),
    and who is liable for its negative balances is stored from Stripe's answer. The create call
    carries an idempotency key derived from the user, so a double submit (two tabs, a retried
    request) gets the same account back from Stripe instead of a second one.
    """
    if user.stripe_account_id and user.stripe_disconnected_at is None:
        return user.stripe_account_id
    seller_country_check(user=user)
    actor = actor if actor is not None else user
    params: dict[str, Any] = {
        "controller": EXPRESS_DIRECT_CHARGES_CONTROLLER,
        "country": SELLER_COUNTRY,
        "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
        "business_profile": {
            "product_description": SELLER_PRODUCT_DESCRIPTION,
            "mcc": SELLER_MCC,
        },
        "metadata": {"user_id": str(user.pk), "username": user.username},
    }
    if is_public_url(seller_public_url(user=user)):
        params["business_profile"]["url"] = seller_public_url(user=user)
    if user.email:
        params["email"] = user.email
    # The user's join time too: after a database reset another person may get the same pk; and
    # the time of a disconnection, so a new account is not the lost one replayed.
    key = f"connect-account-user-{user.pk}-{int(user.date_joined.timestamp())}"
    if user.stripe_disconnected_at is not None:
        key += f"-after-{int(user.stripe_disconnected_at.timestamp())}"
    account = stripe_api.account_create(actor=actor, subject_user=user, idempotency_key=key, **params)
    liable = losses_liable_from(account)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.stripe_account_id or locked.stripe_disconnected_at is not None:
            replaced = locked.stripe_account_id
            for name, value in {
                "stripe_account_id": account["id"], "stripe_account_status": StripeAccountStatus.PENDING,
                "stripe_onboarding_completed": False, "stripe_capabilities_enabled": False,
                "stripe_requirements_due": [], "stripe_requirements_past_due": [],
                "stripe_requirements_eventually_due": [], "stripe_requirements_deadline": None,
                "stripe_requirements_errors": [], "stripe_future_requirements_due": [],
                "stripe_future_requirements_eventually_due": [],
                "stripe_future_requirements_deadline": None,
                "stripe_disabled_reason": "", "stripe_disconnected_at": None,
                "stripe_losses_liable": liable, "stripe_balance_cents": 0,
                "stripe_balance_available_cents": 0, "stripe_balance_synced_at": None,
            }.items():
                setattr(locked, name, value)
            locked.save()
            audit_record(
                action="connect.account_created",
                actor=actor,
                subject_user=locked,
                to_status=StripeAccountStatus.PENDING,
                message=f"losses liable: {liable or 'unknown'}"
                + (f"; replaces {replaced}" if replaced else ""),
                data={"stripe_account": account["id"], "losses_liable": liable, "replaces": replaced},
            )
    user.refresh_from_db()
    return user.stripe_account_id


# A seller who comes back after onboarding (the dashboard's "Update your details" button) is
# asked for everything Stripe will need, now and announced for later, in one visit: Stripe's
# default link asks only for currently_due (https://docs.stripe.com/api/account_links/create).
UPDATE_COLLECTION_OPTIONS = {"fields": "eventually_due", "future_requirements": "include"}


def seller_account_link(*, user: User, actor=None) -> str:
    """A fresh onboarding link (links are single-use and expire within minutes)."""
    if not user.stripe_account_id:
        raise NoStripeAccount()
    link = stripe_api.account_link_create(
        account_id=user.stripe_account_id,
        refresh_url=absolute_url(reverse("connect:connect_refresh")),
        return_url=absolute_url(reverse("connect:connect_return")),
        actor=actor if actor is not None else user,
        subject_user=user,
        collection_options=UPDATE_COLLECTION_OPTIONS if user.stripe_onboarding_completed else None,
    )
    return link["url"]


def seller_start_onboarding(*, user: User) -> str:
    """Become a seller if needed, create or reuse the Express account, return a fresh link."""
    seller_become(user=user)
    seller_ensure_account(user=user)
    return seller_account_link(user=user)


def seller_refresh_from_stripe(*, user: User, actor=None) -> User:
    """Re-read the account from Stripe (the return page: Stripe's redirect alone proves nothing)."""
    account_id = require_account(user)
    account = stripe_api.account_retrieve(
        account_id, actor=actor if actor is not None else user, subject_user=user
    )
    synced = seller_sync_account(account=account, actor=actor if actor is not None else user)
    if synced is not None:
        user.refresh_from_db()
    return user


def seller_sync_account_from_stripe(*, account_id: str, stripe_event_id: str = "") -> User | None:
    """`account.updated`: read the account the event names from Stripe, and sync *that*.

    The event's own copy is never used to link or enable a seller: whoever holds a signing
    secret could have written it (an account Stripe does not have, metadata naming any user,
    charges_enabled true). An account Stripe will not show us is audited and changes nobody;
    Stripe not answering fails the delivery, and Stripe sends it again.
    """
    try:
        account = stripe_api.account_retrieve(account_id) if account_id else None
    except stripe_api.StripeRefused as exc:
        account = None
        reason = exc.stripe_code or exc.message
    else:
        reason = "no account id" if account is None else ""
    if account is None or as_dict(account).get("id") != account_id:
        audit_record(
            action="connect.account_unknown",
            stripe_event_id=stripe_event_id,
            message=f"account.updated for {account_id or '(no id)'}, which Stripe did not return "
                    f"to us ({reason or 'another account'}); nothing changed",
            data={"stripe_account": account_id},
        )
        return None
    return seller_sync_account(account=account, stripe_event_id=stripe_event_id)


def seller_sync_account(*, account: Any, stripe_event_id: str = "", actor=None) -> User | None:
    """Store what a Stripe account object says on the seller it belongs to. Idempotent.

    `account` must be an object Stripe itself returned to us (the return page's fresh read, or
    seller_sync_account_from_stripe for `account.updated`), never an event's copy: it can link
    an orphan account to the user its metadata names and enable them. The user row is locked
    and compared: the same object twice changes nothing the second time. An account we do not
    know is audited and ignored (returns None).
    Once onboarding is complete the payout schedule is set, once per account, after the commit
    (`transaction.on_commit`: no Stripe call while the row is locked; in tests, run the
    callbacks with `django_capture_on_commit_callbacks(execute=True)`).
    """
    data = as_dict(account)
    account_id = data.get("id") or ""
    state = AccountState.from_account(data)
    with transaction.atomic():
        user = (
            User.objects.select_for_update().filter(stripe_account_id=account_id).first()
            if account_id
            else None
        )
        if user is None and account_id:
            user = _link_orphan_account(account=data, actor=actor, stripe_event_id=stripe_event_id)
        if user is None:
            audit_record(
                action="connect.account_unknown",
                actor=actor,
                stripe_event_id=stripe_event_id,
                message=f"account.updated for an account we do not know: {account_id or '(no id)'}",
                data={"stripe_account": account_id},
            )
            return None
        fields = state.user_fields()
        changed = {name: value for name, value in fields.items() if getattr(user, name) != value}
        if changed:
            previous_status = user.stripe_account_status
            for name, value in changed.items():
                setattr(user, name, value)
            user.stripe_account_synced_at = timezone.now()
            user.save(update_fields=[*changed, "stripe_account_synced_at"])
            audit_record(
                action="connect.account_synced",
                actor=actor,
                subject_user=user,
                from_status=previous_status,
                to_status=user.stripe_account_status,
                stripe_event_id=stripe_event_id,
                message="; ".join(sorted(changed)),
                data={"stripe_account": account_id, "changed": sorted(changed)},
            )
        needs_payout_schedule = user.stripe_onboarding_completed and not _payout_schedule_already_set(
            user=user, account_id=account_id
        )
    if needs_payout_schedule:
        # After the commit of whatever transaction we are in (the webhook view wraps its
        # handlers in one): never call Stripe while the user row is locked.
        # A task (connect.tasks.payout_schedule_update, retried while Stripe fails), queued by
        # its registered name.
        enqueue_on_commit("payments.tasks.payout_schedule_update", user_id=user.pk, account=data,
                          actor_id=getattr(actor, "pk", None))
    return user


def _link_orphan_account(*, account: dict, actor=None, stripe_event_id: str = "") -> User | None:
    """An account we created but never stored (the save after Stripe's answer was lost): its
    metadata names our user (id and username); link it if that user still has no account."""
    metadata = account.get("metadata") or {}
    user_id, username = str(metadata.get("user_id") or ""), metadata.get("username") or ""
    if not user_id.isdigit() or not username:
        return None
    user = (
        User.objects.select_for_update()
        .filter(pk=int(user_id), username=username, is_seller=True, stripe_account_id="")
        .first()
    )
    if user is None:
        return None
    user.stripe_account_id = account["id"]
    user.save(update_fields=["stripe_account_id"])
    audit_record(
        action="connect.account_linked",
        actor=actor,
        subject_user=user,
        stripe_event_id=stripe_event_id,
        message=f"linked {account['id']} from its metadata",
        data={"stripe_account": account["id"]},
    )
    return user


# -- the seller's account, read on demand ----------------------------------------------------


def seller_login_link(*, user: User) -> str:
    """A fresh, single-use link into the seller's Express dashboard."""
    account_id = require_account(user)
    if not user.stripe_onboarding_completed:
        raise Conflict(
            "Finish Stripe onboarding first; the Stripe dashboard opens once your details are submitted.",
            code="onboarding_incomplete",
        )
    link = stripe_api.login_link_create(account_id=account_id, actor=user, subject_user=user)
    return link["url"]


def seller_status(*, user: User) -> dict:
    """The JSON of /payments/connect/status/: what we know, from the last sync."""
    if not user.is_seller:
        raise NotASeller(NOT_A_SELLER_MESSAGE)
    return {
        "account_id": user.stripe_account_id or None,
        "status": user.stripe_account_status or "none",
        "charges_enabled": user.stripe_capabilities_enabled,
        "payouts_enabled": user.stripe_capabilities_enabled,
        "details_submitted": user.stripe_onboarding_completed,
        "requirements_due": list(user.stripe_requirements_due or []),
        "requirements_past_due": list(user.stripe_requirements_past_due or []),
        "requirements_in_plain_words": requirements_in_plain_words(user.stripe_requirements_due or []),
        "requirements_eventually_due": list(user.stripe_requirements_eventually_due or []),
        "requirements_current_deadline": _iso(user.stripe_requirements_deadline),
        "requirements_errors": list(user.stripe_requirements_errors or []),
        "future_requirements": {
            "currently_due": list(user.stripe_future_requirements_due or []),
            "eventually_due": list(user.stripe_future_requirements_eventually_due or []),
            "current_deadline": _iso(user.stripe_future_requirements_deadline),
        },
        "disabled_reason": user.stripe_disabled_reason or None,
        "can_accept_payments": user.can_accept_payments,
        "synced_at": _iso(user.stripe_account_synced_at),
    }


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None
