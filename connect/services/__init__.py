"""Stripe Connect for sellers, by concern:

- `rules`: pure rules about an account object (our status word, what we store on the User, the
  payout delay per country, requirement keys and disabled reasons in plain words);
- `onboarding`: the Express account, Account Links, syncing the account onto the seller;
- `payouts`: the payout schedule, the seller's balance and negative balances;
- `disconnect`: an account the platform lost (account.application.deauthorized);
- `notices`: plain-text notices to the seller and staff.

Callers import from here (`from connect import services`).
"""

from connect.services.disconnect import seller_disconnect
from connect.services.onboarding import (
    EXPRESS_DIRECT_CHARGES_CONTROLLER,
    SELLER_MCC,
    SELLER_PRODUCT_DESCRIPTION,
    is_public_url,
    seller_account_link,
    seller_become,
    seller_ensure_account,
    seller_login_link,
    seller_public_url,
    seller_refresh_from_stripe,
    seller_start_onboarding,
    seller_status,
    seller_sync_account,
    seller_sync_account_from_stripe,
)
from connect.services.payouts import (
    PAYOUT_SCHEDULE_CLAIM_SECONDS,
    PAYOUT_SCHEDULE_SET_ACTION,
    SellerBalance,
    seller_balance,
    seller_set_payout_schedule,
)
from connect.services.rules import (
    PAYOUT_MINIMUM_DELAY_DAYS,
    SELLER_COUNTRY,
    AccountState,
    NoStripeAccount,
    NotASeller,
    RequirementsOutlook,
    SellerCountryNotSupported,
    account_status_from,
    disabled_reason_in_plain_words,
    payout_delay_days_for,
    requirement_errors_in_plain_words,
    requirement_in_plain_words,
    requirements_in_plain_words,
    requirements_outlook,
)

__all__ = [
    "PAYOUT_MINIMUM_DELAY_DAYS", "PAYOUT_SCHEDULE_CLAIM_SECONDS", "PAYOUT_SCHEDULE_SET_ACTION",
    "EXPRESS_DIRECT_CHARGES_CONTROLLER", "SELLER_COUNTRY", "SellerCountryNotSupported",
    "seller_disconnect", "SELLER_MCC", "SELLER_PRODUCT_DESCRIPTION", "AccountState", "NoStripeAccount",
    "NotASeller",
    "SellerBalance", "account_status_from", "disabled_reason_in_plain_words", "is_public_url",
    "payout_delay_days_for", "requirement_in_plain_words", "requirements_in_plain_words",
    "RequirementsOutlook", "requirement_errors_in_plain_words", "requirements_outlook",
    "seller_account_link", "seller_balance", "seller_become", "seller_ensure_account",
    "seller_login_link", "seller_public_url", "seller_refresh_from_stripe",
    "seller_set_payout_schedule", "seller_start_onboarding", "seller_status", "seller_sync_account",
    "seller_sync_account_from_stripe",
]
