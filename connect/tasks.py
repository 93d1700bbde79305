"""Background work of Connect (Celery tasks; see stubcollector/celery.py).

The tasks keep the names they were registered under while Connect lived in payments
(`payments.tasks.<name>`): beat's schedule and messages already queued name them so.
"""

import logging

from celery import shared_task
from django.contrib.auth import get_user_model

from connect.services.payouts import (
    _payout_schedule_after_commit,
    _payout_schedule_already_set,
    sellers_balance_refresh,
)

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5, acks_late=True, name="payments.tasks.payout_schedule_update")
def payout_schedule_update(self, *, user_id: int, account: dict, actor_id: int | None = None) -> bool:
    """Set a newly onboarded seller's payout schedule on Stripe; retried while Stripe fails.
    True once it is set (now or before)."""

    users = get_user_model().objects
    actor = users.filter(pk=actor_id).first() if actor_id else None
    _payout_schedule_after_commit(user_id=user_id, account=account, actor=actor)
    user = users.get(pk=user_id)
    if user.stripe_account_id != account.get("id"):
        return False  # the seller has another account now: nothing to retry
    if _payout_schedule_already_set(user=user, account_id=user.stripe_account_id):
        return True
    if self.request.is_eager or self.request.retries >= self.max_retries:
        # In-process (no broker) there is no later to retry at: the next sync tries again.
        logger.warning("Payout schedule of %s not set yet; the next account sync tries again",
                       user.stripe_account_id)
        return False
    raise self.retry(countdown=60 * 2**self.request.retries)


@shared_task(name="payments.tasks.refresh_seller_balances")
def refresh_seller_balances() -> dict:
    """Beat, hourly: re-read the balances recorded negative (a block lifts once Stripe says it
    is covered) and those of sellers with recent refunds or disputes (a debit never comes as
    `balance.available`, so a missed event would leave a negative balance unseen)."""
    return sellers_balance_refresh(everyone=False)
