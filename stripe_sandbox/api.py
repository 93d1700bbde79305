"""The Stripe API itself, all areas together (accounts, links, balance, payments, refunds,
disputes, files, events): what each handler takes and returns, and the money model, are
described in stripe_sandbox/resources/base.py and docs/sandbox.md.
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
