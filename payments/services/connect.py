"""Seller onboarding with Stripe Connect Express, and the seller's Stripe state on the User.

Every Stripe call goes through `payments.stripe_api` (timeout, audit row, errors turned into
`PaymentProviderError`). Stripe's redirect back to us proves nothing: the state stored on the
user always comes from an account object read from Stripe (the return page re-reads it) or
delivered in an `account.updated` event, through `seller_sync_account`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode, urljoin, urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import StripeAccountStatus, User
from marketplace.pricing import format_usd
from payments import stripe_api
from payments.models import AuditEvent
from payments.services.audit import audit_record
from stubcollector.errors import Conflict, DomainError, PaymentProviderError, PermissionDenied

logger = logging.getLogger(__name__)

# Hobby, toy and game shops: the closest merchant category for collectible stubs.
SELLER_MCC = "5945"
SELLER_PRODUCT_DESCRIPTION = "Collectible ticket stubs sold through the Stub Collector marketplace."

# The shortest payout delay Stripe allows for an account's country (days). Countries not listed
# get Stripe's own "minimum", which is always valid. Keep to values Stripe documents.
PAYOUT_MINIMUM_DELAY_DAYS: dict[str, int] = {
    "US": 2,
    "CA": 2,
    "AU": 2,
    "GB": 3,
    "JP": 4,
    "NZ": 4,
    "SG": 4,
    "DE": 7,
    "ES": 7,
    "FR": 7,
    "IE": 7,
    "IT": 7,
    "NL": 7,
}

# Disabled reasons a seller cannot fix by filling in the onboarding form.
_FINAL_DISABLED_PREFIXES = ("rejected.", "listed", "platform_paused")

PAYOUT_SCHEDULE_SET_ACTION = "connect.payout_schedule_set"
PAYOUT_SCHEDULE_CLAIM_SECONDS = 120


class NotASeller(PermissionDenied):
    code = "not_a_seller"
    message = "Only sellers have a Stripe account. Start selling from your dashboard first."


class NoStripeAccount(Conflict):
    code = "no_stripe_account"
    message = "You have not started Stripe onboarding yet. Start it from your dashboard."


# -- pure rules --------------------------------------------------------------------------------


def _as_dict(obj: Any) -> dict:
    """A plain dict from a stripe.StripeObject (which is not a dict in stripe-python 15) or a dict."""
    if obj is None:
        return {}
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return dict(obj)


def account_status_from(account: Mapping[str, Any]) -> str:
    """Our four-word status for a Stripe account object.

    - `disabled`: Stripe refuses it for good (rejected, listed, paused by the platform), or it has a
      disabled reason and cannot take charges after the details were submitted (e.g. past due);
    - `enabled`: charges and payouts enabled and nothing past due;
    - `pending`: the seller has not finished the onboarding form (a brand-new Express account
      already carries `disabled_reason=requirements.past_due`, which is not "disabled" for us);
    - `restricted`: details submitted but something is still missing or under review.
    """
    account = _as_dict(account)
    requirements = account.get("requirements") or {}
    disabled_reason = requirements.get("disabled_reason") or ""
    charges_enabled = bool(account.get("charges_enabled"))
    payouts_enabled = bool(account.get("payouts_enabled"))
    details_submitted = bool(account.get("details_submitted"))
    past_due = requirements.get("past_due") or []

    if disabled_reason.startswith(_FINAL_DISABLED_PREFIXES):
        return StripeAccountStatus.DISABLED
    if charges_enabled and payouts_enabled and not past_due:
        return StripeAccountStatus.ENABLED
    if not details_submitted:
        return StripeAccountStatus.PENDING
    if disabled_reason and not charges_enabled:
        return StripeAccountStatus.DISABLED
    return StripeAccountStatus.RESTRICTED


def payout_delay_days_for(*, country: str, requested_days: int) -> int | str:
    """The delay to ask Stripe for: what we want, but never below the country's minimum."""
    minimum = PAYOUT_MINIMUM_DELAY_DAYS.get((country or "").upper())
    if minimum is None:
        return "minimum"
    return max(int(requested_days), minimum)


# Plain words for Stripe's requirement keys, matched after the entity prefix is removed
# ("individual.dob.day" → "dob.day"). Exact keys first, then prefixes.
_REQUIREMENT_WORDS_EXACT = {
    "external_account": "A bank account or debit card for payouts",
    "business_type": "The type of business (individual or company)",
    "business_profile.url": "Your website or a description of what you sell",
    "business_profile.mcc": "Your business category",
    "business_profile.product_description": "A description of what you sell",
    "business_profile.name": "Your business name",
    "business_profile.support_phone": "A support phone number",
    "first_name": "Your first name",
    "last_name": "Your last name",
    "email": "Your email address",
    "phone": "Your phone number",
    "ssn_last_4": "The last 4 digits of your Social Security number",
    "id_number": "Your government ID number",
    "verification.document": "A photo of your ID document",
    "verification.additional_document": "A second document proving your identity or address",
    "political_exposure": "Whether you hold a public office",
    "name": "Your business name",
    "tax_id": "Your business tax ID",
    "directors_provided": "Confirmation of the company directors",
    "owners_provided": "Confirmation of the company owners",
    "executives_provided": "Confirmation of the company executives",
    "settings.payments.statement_descriptor": "The name shown on your buyers' card statements",
}
_REQUIREMENT_WORDS_PREFIX = (
    ("tos_acceptance.", "Acceptance of Stripe's terms of service"),
    ("dob.", "Your date of birth"),
    ("address.", "Your address"),
    ("verification.", "Proof of your identity"),
    ("relationship.", "Your role in the business"),
    ("business_profile.", "Details about your business"),
    ("settings.", "Account settings"),
    ("external_account", "A bank account or debit card for payouts"),
)
_ENTITY_PREFIX = re.compile(
    r"^(individual|company|representative|owners|directors|executives|person_[A-Za-z0-9]+)\."
)


def requirement_in_plain_words(key: str) -> str:
    """One Stripe requirement key in plain English, with a readable fallback for unknown keys."""
    entity_match = _ENTITY_PREFIX.match(key)
    entity = entity_match.group(1) if entity_match else ""
    rest = key[entity_match.end() :] if entity_match else key
    if entity == "company" and rest.startswith("address."):
        return "Your business address"
    if rest in _REQUIREMENT_WORDS_EXACT:
        return _REQUIREMENT_WORDS_EXACT[rest]
    for prefix, words in _REQUIREMENT_WORDS_PREFIX:
        if rest.startswith(prefix):
            return words
    readable = rest.replace("_", " ").replace(".", " ").strip() or key
    return readable[:1].upper() + readable[1:]


def requirements_in_plain_words(keys: Iterable[str]) -> list[str]:
    """Each distinct plain-English requirement once, in Stripe's order (dob.day/month/year → one)."""
    seen: dict[str, None] = {}
    for key in keys:
        seen.setdefault(requirement_in_plain_words(key), None)
    return list(seen)


_DISABLED_REASON_WORDS = {
    "requirements.past_due": "Stripe needs overdue information before you can take payments again.",
    "requirements.pending_verification": "Stripe is checking the information you gave.",
    "action_required.requested_capabilities": "Stripe needs you to accept the requested payment features.",
    "under_review": "Stripe is reviewing your account.",
    "listed": "Stripe has paused your account after a check against watch lists.",
    "platform_paused": "Stub Collector has paused payments on your account. Contact us.",
    "rejected.fraud": "Stripe has closed this account.",
    "rejected.terms_of_service": "Stripe has closed this account.",
    "rejected.listed": "Stripe has closed this account.",
    "rejected.other": "Stripe has closed this account.",
}


def disabled_reason_in_plain_words(reason: str) -> str:
    if not reason:
        return ""
    if reason in _DISABLED_REASON_WORDS:
        return _DISABLED_REASON_WORDS[reason]
    if reason.startswith("rejected."):
        return "Stripe has closed this account."
    return "Stripe has paused payments on your account. Open your Stripe dashboard for details."


@dataclass(frozen=True)
class AccountState:
    """What we store on the User, read from one Stripe account object."""

    status: str
    details_submitted: bool
    capabilities_enabled: bool
    requirements_due: list[str]
    requirements_past_due: list[str]
    disabled_reason: str

    @classmethod
    def from_account(cls, account: Mapping[str, Any]) -> AccountState:
        account = _as_dict(account)
        requirements = account.get("requirements") or {}
        past_due = list(requirements.get("past_due") or [])
        due = list(dict.fromkeys([*(requirements.get("currently_due") or []), *past_due]))
        return cls(
            status=account_status_from(account),
            details_submitted=bool(account.get("details_submitted")),
            capabilities_enabled=bool(account.get("charges_enabled") and account.get("payouts_enabled")),
            requirements_due=due,
            requirements_past_due=past_due,
            disabled_reason=requirements.get("disabled_reason") or "",
        )

    def user_fields(self) -> dict[str, Any]:
        return {
            "stripe_account_status": self.status,
            "stripe_onboarding_completed": self.details_submitted,
            "stripe_capabilities_enabled": self.capabilities_enabled,
            "stripe_requirements_due": self.requirements_due,
            "stripe_requirements_past_due": self.requirements_past_due,
            "stripe_disabled_reason": self.disabled_reason,
        }


# -- onboarding --------------------------------------------------------------------------------


def _absolute(base_url: str | None, path: str) -> str:
    return urljoin((base_url or settings.SITE_URL).rstrip("/") + "/", path.lstrip("/"))


def seller_public_url(*, user: User) -> str:
    return _absolute(settings.SITE_URL, f"/sellers/{user.username}/")


def is_public_url(url: str) -> bool:
    """False for a development address (localhost, 127.x, ::1), which real Stripe refuses as
    business_profile[url]: the seller then types their own on Stripe's form instead."""
    host = (urlsplit(url).hostname or "").lower()
    return bool(host) and not (
        host in ("localhost", "::1", "0.0.0.0") or host.endswith(".localhost") or host.startswith("127.")
    )


def seller_become(*, user: User) -> User:
    """A buyer becomes a seller the first time they start onboarding."""
    if not user.is_seller:
        User.objects.filter(pk=user.pk).update(is_seller=True)
        user.is_seller = True
        audit_record(action="connect.seller_became", actor=user, subject_user=user, to_status="seller")
    return user


def seller_ensure_account(*, user: User, actor=None) -> str:
    """The seller's Express account id: the one they have, or a new one made now.

    The create call carries an idempotency key derived from the user, so a double submit (two
    tabs, a retried request) gets the same account back from Stripe instead of a second one.
    """
    if user.stripe_account_id:
        return user.stripe_account_id
    actor = actor if actor is not None else user
    params: dict[str, Any] = {
        "type": "express",
        "country": (user.seller_country or "US").upper(),
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
    account = stripe_api.account_create(
        actor=actor,
        subject_user=user,
        # The user's join time too: after a database reset another person may get the same pk.
        idempotency_key=f"connect-account-user-{user.pk}-{int(user.date_joined.timestamp())}",
        **params,
    )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.stripe_account_id:
            locked.stripe_account_id = account["id"]
            locked.stripe_account_status = StripeAccountStatus.PENDING
            locked.save(update_fields=["stripe_account_id", "stripe_account_status"])
            audit_record(
                action="connect.account_created",
                actor=actor,
                subject_user=locked,
                to_status=StripeAccountStatus.PENDING,
                data={"stripe_account": account["id"]},
            )
    user.refresh_from_db(fields=["stripe_account_id", "stripe_account_status"])
    return user.stripe_account_id


def seller_account_link(*, user: User, base_url: str | None = None, actor=None) -> str:
    """A fresh onboarding link (links are single-use and expire within minutes)."""
    if not user.stripe_account_id:
        raise NoStripeAccount()
    link = stripe_api.account_link_create(
        account_id=user.stripe_account_id,
        refresh_url=_absolute(base_url, reverse("payments:connect_refresh")),
        return_url=_absolute(base_url, reverse("payments:connect_return")),
        actor=actor if actor is not None else user,
        subject_user=user,
    )
    return link["url"]


def seller_start_onboarding(*, user: User, base_url: str | None = None) -> str:
    """Become a seller if needed, create or reuse the Express account, return a fresh link."""
    seller_become(user=user)
    seller_ensure_account(user=user)
    return seller_account_link(user=user, base_url=base_url)


def _require_account(user: User) -> str:
    if not user.is_seller:
        raise NotASeller()
    if not user.stripe_account_id:
        raise NoStripeAccount()
    return user.stripe_account_id


def seller_refresh_from_stripe(*, user: User, actor=None) -> User:
    """Re-read the account from Stripe (the return page: Stripe's redirect alone proves nothing)."""
    account_id = _require_account(user)
    account = stripe_api.account_retrieve(
        account_id, actor=actor if actor is not None else user, subject_user=user
    )
    synced = seller_sync_account(account=account, actor=actor if actor is not None else user)
    if synced is not None:
        user.refresh_from_db()
    return user


def seller_sync_account(*, account: Any, stripe_event_id: str = "", actor=None) -> User | None:
    """Store what a Stripe account object says on the seller it belongs to. Idempotent.

    Called by the return page (after a fresh read) and by the `account.updated` webhook with the
    event's `data.object`. The user row is locked and compared: the same object twice changes
    nothing the second time. An account we do not know is audited and ignored (returns None).
    Once onboarding is complete the payout schedule is set, once per account, after the commit
    (`transaction.on_commit`: no Stripe call while the row is locked; in tests, run the
    callbacks with `django_capture_on_commit_callbacks(execute=True)`).
    """
    data = _as_dict(account)
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
        transaction.on_commit(
            lambda: _payout_schedule_after_commit(user_id=user.pk, account=data, actor=actor)
        )
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


def _payout_schedule_after_commit(*, user_id: int, account: dict, actor=None) -> None:
    user = User.objects.get(pk=user_id)
    account_id = user.stripe_account_id
    if account_id != account.get("id") or _payout_schedule_already_set(user=user, account_id=account_id):
        return
    # Two deliveries of the same event committed at once would both get here: a short claim in
    # the shared cache (atomic add) lets one of them call Stripe.
    claim = f"connect:payout-schedule:{account_id}"
    if not cache.add(claim, "claimed", timeout=PAYOUT_SCHEDULE_CLAIM_SECONDS):
        return
    try:
        seller_set_payout_schedule(user=user, account=account, actor=actor)
    except DomainError:
        cache.delete(claim)
        # The status is stored; the schedule is retried on the next sync (return page or event).
        logger.warning("Could not set the payout schedule of %s yet", account_id)


def _payout_schedule_already_set(*, user: User, account_id: str) -> bool:
    return AuditEvent.objects.filter(
        subject_user=user, action=PAYOUT_SCHEDULE_SET_ACTION, data__stripe_account=account_id
    ).exists()


def seller_set_payout_schedule(
    *, user: User, account: Mapping[str, Any] | None = None, actor=None
) -> int | str:
    """Daily payouts after `SELLER_PAYOUT_DELAY_DAYS`, never below the country's minimum.

    Skips the Stripe call when the account already has that delay; records the result once.
    """
    account = _as_dict(account)
    country = account.get("country") or user.seller_country
    delay = payout_delay_days_for(country=country, requested_days=settings.SELLER_PAYOUT_DELAY_DAYS)
    current = ((account.get("settings") or {}).get("payouts") or {}).get("schedule") or {}
    if isinstance(delay, str) or current.get("delay_days") != delay or current.get("interval") != "daily":
        stripe_api.account_modify(
            user.stripe_account_id,
            actor=actor,
            subject_user=user,
            settings={"payouts": {"schedule": {"interval": "daily", "delay_days": delay}}},
        )
    audit_record(
        action=PAYOUT_SCHEDULE_SET_ACTION,
        actor=actor,
        subject_user=user,
        message=f"daily, delay_days={delay} ({country})",
        data={"stripe_account": user.stripe_account_id, "delay_days": delay, "country": country},
    )
    return delay


# -- the seller's account, read on demand ----------------------------------------------------


def seller_login_link(*, user: User) -> str:
    """A fresh, single-use link into the seller's Express dashboard."""
    account_id = _require_account(user)
    if not user.stripe_onboarding_completed:
        raise Conflict(
            "Finish Stripe onboarding first; the Stripe dashboard opens once your details are submitted.",
            code="onboarding_incomplete",
        )
    link = stripe_api.login_link_create(account_id=account_id, actor=user, subject_user=user)
    return link["url"]


@dataclass(frozen=True)
class SellerBalance:
    """Cents per currency, as Stripe reports them (several entries per currency are summed)."""

    available: dict[str, int] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"available": self.available, "pending": self.pending}

    def rows(self) -> list[dict]:
        currencies = sorted({*self.available, *self.pending}) or ["usd"]
        return [
            {
                "currency": currency.upper(),
                "available": _money(self.available.get(currency, 0), currency),
                "pending": _money(self.pending.get(currency, 0), currency),
            }
            for currency in currencies
        ]


def _money(cents: int, currency: str) -> str:
    if currency == "usd":
        return format_usd(cents)
    return f"{cents / 100:,.2f} {currency.upper()}"


def _per_currency(entries: Iterable[Mapping[str, Any]] | None) -> dict[str, int]:
    totals: dict[str, int] = {}
    for entry in entries or []:
        currency = str(entry.get("currency", "")).lower()
        totals[currency] = totals.get(currency, 0) + int(entry.get("amount") or 0)
    return totals


def seller_balance(*, user: User) -> SellerBalance:
    account_id = _require_account(user)
    balance = _as_dict(stripe_api.balance_retrieve(account_id=account_id, actor=user, subject_user=user))
    return SellerBalance(
        available=_per_currency(balance.get("available")), pending=_per_currency(balance.get("pending"))
    )


def seller_status(*, user: User) -> dict:
    """The JSON of /payments/connect/status/: what we know, from the last sync."""
    if not user.is_seller:
        raise NotASeller()
    return {
        "account_id": user.stripe_account_id or None,
        "status": user.stripe_account_status or "none",
        "charges_enabled": user.stripe_capabilities_enabled,
        "payouts_enabled": user.stripe_capabilities_enabled,
        "details_submitted": user.stripe_onboarding_completed,
        "requirements_due": list(user.stripe_requirements_due or []),
        "requirements_past_due": list(user.stripe_requirements_past_due or []),
        "requirements_in_plain_words": requirements_in_plain_words(user.stripe_requirements_due or []),
        "disabled_reason": user.stripe_disabled_reason or None,
        "can_accept_payments": user.can_accept_payments,
        "synced_at": user.stripe_account_synced_at.isoformat() if user.stripe_account_synced_at else None,
    }


# -- demo data ---------------------------------------------------------------------------------


class _FormReader(HTMLParser):
    """The first <form> of a page: its action, method and the values a person would submit."""

    def __init__(self):
        super().__init__()
        self.action: str | None = None
        self.method = "get"
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._done = False
        self._select: str | None = None
        self._select_value: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: (value or "") for name, value in attrs}
        if self._done:
            return
        if tag == "form" and self.action is None:
            self.action, self.method, self._in_form = (
                attrs.get("action", ""),
                attrs.get("method", "get"),
                True,
            )
        elif not self._in_form:
            return
        elif tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind in ("submit", "button", "image", "file"):
                return
            self.fields.append((attrs["name"], attrs.get("value", "")))
        elif tag == "select" and attrs.get("name"):
            self._select, self._select_value = attrs["name"], None
        elif tag == "option" and self._select:
            if self._select_value is None or "selected" in attrs:
                self._select_value = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self.fields.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the form's answer redirects to our return page: nobody is logged in there


def _open_sandbox_page(method: str, url: str, data: list[tuple[str, str]] | None = None) -> tuple[int, str]:
    """(status, html) of a sandbox page, in-process when the SDK is wired to one (tests)."""
    sandbox = stripe_api.sandbox_in_process()
    if sandbox is not None:
        response = sandbox.request(method, url, urlencode(data) if data is not None else None)
        return response.status, response.text
    body = urlencode(data).encode() if data is not None else None
    request = Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    opener = build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=settings.STRIPE_TIMEOUT_SECONDS) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except HTTPError as error:  # a 3xx left unfollowed arrives here
        return error.code, ""


def _submit_onboarding_form(url: str) -> None:
    """Fill in the sandbox's onboarding page with its prefilled test values and submit it."""
    status, page = _open_sandbox_page("GET", url)
    form = _FormReader()
    form.feed(page)
    if status != 200 or form.action is None:
        raise RuntimeError(f"the onboarding page answered {status} without a form")
    status, _ = _open_sandbox_page((form.method or "post").upper(), urljoin(url, form.action), form.fields)
    if status >= 400:
        raise RuntimeError(f"submitting the onboarding form answered {status}")


def connect_onboard_demo_sellers(*, sellers, halfway_seller=None, log: Callable[[str], Any] = print) -> None:
    """Onboard demo sellers through the Stripe sandbox the way a person would.

    Each seller gets an Express account and an Account Link; the sandbox's onboarding page is
    then submitted over HTTP like a browser would, and the account is re-read and synced. The
    halfway seller stops after the link (requirements still due). If the sandbox cannot be
    reached, a clear message is logged and the sellers stay un-onboarded (no crash).
    """
    everyone = list(sellers)
    if halfway_seller is not None and halfway_seller not in everyone:
        everyone.append(halfway_seller)
    for seller in everyone:
        try:
            seller_become(user=seller)
            seller_ensure_account(user=seller)
            if seller.can_accept_payments:
                log(f"{seller.username}: already onboarded ({seller.stripe_account_id})")
                continue
            link = seller_account_link(user=seller)
            if halfway_seller is not None and seller.pk == halfway_seller.pk:
                seller_refresh_from_stripe(user=seller)
                log(
                    f"{seller.username}: Stripe account {seller.stripe_account_id} created, "
                    "onboarding left halfway"
                )
                continue
            _submit_onboarding_form(link)
            seller_refresh_from_stripe(user=seller)
            log(f"{seller.username}: onboarded ({seller.stripe_account_status}, {seller.stripe_account_id})")
        except (DomainError, OSError, RuntimeError) as exc:
            log(
                f"{seller.username}: not onboarded - the Stripe sandbox at {settings.STRIPE_API_HOST} "
                f"did not answer ({exc}). Start it (make run / python -m stripe_sandbox) "
                "and run seed_demo again."
            )
            if isinstance(exc, PaymentProviderError | OSError):
                break
