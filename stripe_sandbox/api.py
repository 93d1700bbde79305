"""The Stripe API itself: accounts, links, balance, payments, refunds, disputes, files, events.

Every handler takes a :class:`~stripe_sandbox.messages.Request` (params already decoded,
``scope`` = the account named by ``Stripe-Account`` or ``"platform"``) and returns the stored
object dict; the app turns it into JSON (removing private ``_`` keys, applying ``expand``).
Handlers run with the store lock held, so each one is atomic.

Money model (documented in docs/sandbox.md):
* a successful charge of A cents with application fee F on a connected account adds one
  balance transaction there: amount A, fee = Stripe's fee (2.9 % + 30 c) + F, net the rest,
  *pending* until ``available_on`` (created + the account's payout ``delay_days``);
  and one on the platform: the application fee F, pending for 2 days. An account made with
  ``controller.fees.payer=application`` pays no Stripe fee: Stripe's processing and dispute
  fees are ``stripe_fee`` transactions on the platform instead.
* refunds, fee refunds and disputes are debited (or credited) at once, as *available*.
* ``Sandbox.advance_time(seconds)`` moves the clock, which is how pending becomes available.
"""

from __future__ import annotations

from .resources.accounts import AccountsApi
from .resources.base import PLATFORM
from .resources.disputes import DisputesApi
from .resources.events import EventsApi
from .resources.files import FilesApi
from .resources.payments import PaymentsApi
from .resources.payouts import PayoutsApi
from .resources.radar import RadarApi
from .resources.refunds import RefundsApi


class StripeApi(AccountsApi, PaymentsApi, PayoutsApi, RefundsApi, DisputesApi, RadarApi, FilesApi,
                EventsApi):
    """Stripe's behaviour over a :class:`~stripe_sandbox.store.Store`, all areas together."""


__all__ = ["PLATFORM", "StripeApi"]
