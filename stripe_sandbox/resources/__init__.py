"""The sandbox's Stripe API, one module per area.

Each module holds one mixin over :class:`~stripe_sandbox.resources.base.ApiBase`;
:class:`stripe_sandbox.api.StripeApi` joins them, so an area calls another through ``self``
(a payment opens a dispute with ``self.open_dispute``, a refund books money with
``self.add_balance_transaction``).
"""
