"""The rules of a seller's Stripe account, without I/O: our status word for an account object,
what we store on the User from it, the payout delay per country, and Stripe's requirement keys
and disabled reasons in plain words for the seller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from accounts.models import StripeAccountStatus, User
from core.errors import Conflict
from marketplace.services import NotASeller

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


# Sellers are in the United States only: every amount, balance and payout is USD, and a US
# account settles in USD (docs/operations.md, "Countries and currency").
SELLER_COUNTRY = "US"


class SellerCountryNotSupported(Conflict):
    code = "seller_country_not_supported"
    message = "Stub Collector takes sellers in the United States only (all payments are in US dollars)."


def seller_country_check(*, user: User) -> None:
    if (user.seller_country or SELLER_COUNTRY).upper() != SELLER_COUNTRY:
        raise SellerCountryNotSupported()


# NotASeller (marketplace.services) in Connect's words: the Stripe account, not listing stubs.
NOT_A_SELLER_MESSAGE = "Only sellers have a Stripe account. Start selling from your dashboard first."


class NoStripeAccount(Conflict):
    code = "no_stripe_account"
    message = "You have not started Stripe onboarding yet. Start it from your dashboard."


# -- pure rules --------------------------------------------------------------------------------


def as_dict(obj: Any) -> dict:
    """A plain dict from a stripe.StripeObject (which is not a dict in stripe-python 15) or a dict."""
    if obj is None:
        return {}
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return dict(obj)


def losses_liable_from(account: Mapping[str, Any]) -> str:
    """Who covers the account's unrecoverable negative balance: "application" (the platform)
    or "stripe", from `controller.losses.payments`; "" when Stripe did not say."""
    account = as_dict(account)
    return str(((account.get("controller") or {}).get("losses") or {}).get("payments") or "")


def account_status_from(account: Mapping[str, Any]) -> str:
    """Our four-word status for a Stripe account object.

    - `disabled`: Stripe refuses it for good (rejected, listed, paused by the platform), or it has a
      disabled reason and cannot take charges after the details were submitted (e.g. past due);
    - `enabled`: charges and payouts enabled and nothing past due;
    - `pending`: the seller has not finished the onboarding form (a brand-new Express account
      already carries `disabled_reason=requirements.past_due`, which is not "disabled" for us);
    - `restricted`: details submitted but something is still missing or under review.
    """
    account = as_dict(account)
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


def requirement_errors_in_plain_words(errors: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each of Stripe's `requirements.errors` as "<what> – <why>": the requirement in plain words
    and Stripe's own `reason` (written for people), or the error code made readable without one."""
    lines: dict[str, None] = {}
    for error in errors:
        what = requirement_in_plain_words(str(error.get("requirement") or ""))
        why = str(error.get("reason") or "").strip() or str(error.get("code") or "").replace("_", " ")
        lines.setdefault(f"{what} – {why}" if why else what, None)
    return list(lines)


_DISABLED_REASON_WORDS = {
    "requirements.past_due": "Stripe needs overdue information before you can take payments again.",
    "requirements.pending_verification": "Stripe is checking the information you gave.",
    "action_required.requested_capabilities": "Stripe needs you to accept the requested payment features.",
    "under_review": "Stripe is reviewing your account.",
    "listed": "Stripe has paused your account after a check against watch lists.",
    "platform_paused": "Stub Collector has paused payments on your account. Contact us.",
    "platform_disconnected": "Your Stripe account is no longer connected to Stub Collector.",
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
    losses_liable: str = ""
    # Stripe's eventually_due includes currently_due; the deadlines are Stripe's Unix times.
    requirements_eventually_due: list[str] = field(default_factory=list)
    requirements_deadline: datetime | None = None
    requirements_errors: list[dict[str, str]] = field(default_factory=list)
    future_requirements_due: list[str] = field(default_factory=list)
    future_requirements_eventually_due: list[str] = field(default_factory=list)
    future_requirements_deadline: datetime | None = None

    @classmethod
    def from_account(cls, account: Mapping[str, Any]) -> AccountState:
        account = as_dict(account)
        requirements = account.get("requirements") or {}
        future = account.get("future_requirements") or {}
        past_due = list(requirements.get("past_due") or [])
        due = list(dict.fromkeys([*(requirements.get("currently_due") or []), *past_due]))
        return cls(
            status=account_status_from(account),
            details_submitted=bool(account.get("details_submitted")),
            capabilities_enabled=bool(account.get("charges_enabled") and account.get("payouts_enabled")),
            requirements_due=due,
            requirements_past_due=past_due,
            disabled_reason=requirements.get("disabled_reason") or "",
            losses_liable=losses_liable_from(account),
            requirements_eventually_due=list(requirements.get("eventually_due") or []),
            requirements_deadline=_from_unix(requirements.get("current_deadline")),
            requirements_errors=[
                {name: str(error.get(name) or "") for name in ("requirement", "code", "reason")}
                for error in (as_dict(error) for error in requirements.get("errors") or [])
            ],
            future_requirements_due=list(future.get("currently_due") or []),
            future_requirements_eventually_due=list(future.get("eventually_due") or []),
            future_requirements_deadline=_from_unix(future.get("current_deadline")),
        )

    def user_fields(self) -> dict[str, Any]:
        return {
            "stripe_account_status": self.status,
            "stripe_onboarding_completed": self.details_submitted,
            "stripe_capabilities_enabled": self.capabilities_enabled,
            "stripe_requirements_due": self.requirements_due,
            "stripe_requirements_past_due": self.requirements_past_due,
            "stripe_requirements_eventually_due": self.requirements_eventually_due,
            "stripe_requirements_deadline": self.requirements_deadline,
            "stripe_requirements_errors": self.requirements_errors,
            "stripe_future_requirements_due": self.future_requirements_due,
            "stripe_future_requirements_eventually_due": self.future_requirements_eventually_due,
            "stripe_future_requirements_deadline": self.future_requirements_deadline,
            "stripe_disabled_reason": self.disabled_reason,
            **({"stripe_losses_liable": self.losses_liable} if self.losses_liable else {}),
        }


@dataclass(frozen=True)
class RequirementsOutlook:
    """What Stripe will need from a seller, in plain words, read from what the last sync stored:
    the dashboard shows it with a button to a fresh onboarding link, so a seller who can still
    sell fixes it before Stripe pauses charges or payouts at `deadline`."""

    deadline: datetime | None
    due: list[str]
    eventually_due: list[str]
    errors: list[str]
    future_deadline: datetime | None
    future_due: list[str]
    future_eventually_due: list[str]

    @property
    def anything(self) -> bool:
        return bool(self.due or self.eventually_due or self.errors or self.future_due
                    or self.future_eventually_due)


def requirements_outlook(*, user: User) -> RequirementsOutlook:
    """Each requirement once, under the earliest heading it belongs to (Stripe's eventually_due
    includes currently_due, and future_requirements repeats what is already due)."""
    past_due = list(user.stripe_requirements_past_due or [])
    due = [key for key in user.stripe_requirements_due or [] if key not in past_due]
    eventually = [key for key in user.stripe_requirements_eventually_due or []
                  if key not in due and key not in past_due]
    shown = {*past_due, *due, *eventually}
    future_due = [key for key in user.stripe_future_requirements_due or [] if key not in shown]
    future_eventually = [key for key in user.stripe_future_requirements_eventually_due or []
                         if key not in shown and key not in future_due]
    return RequirementsOutlook(
        deadline=user.stripe_requirements_deadline if due else None,
        due=requirements_in_plain_words(due),
        eventually_due=requirements_in_plain_words(eventually),
        errors=requirement_errors_in_plain_words(user.stripe_requirements_errors or []),
        future_deadline=user.stripe_future_requirements_deadline if future_due or future_eventually else None,
        future_due=requirements_in_plain_words(future_due),
        future_eventually_due=requirements_in_plain_words(future_eventually),
    )


def _from_unix(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def require_account(user: User) -> str:
    if not user.is_seller:
        raise NotASeller(NOT_A_SELLER_MESSAGE)
    if not user.stripe_account_id:
        raise NoStripeAccount()
    return user.stripe_account_id
