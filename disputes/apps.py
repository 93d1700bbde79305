from django.apps import AppConfig


class DisputesConfig(AppConfig):
    """Card disputes on orders: Stripe's events, the staff desk, evidence and its files."""

    name = "disputes"

    def ready(self):
        # The app's own modules are imported here, not at the top: they load models, which
        # exist only once the app registry is ready (this method).
        from disputes import selectors
        from disputes.order_words import dispute_move_words
        from disputes.services import dispute_event_apply
        from payments.order_disputes import OrderDisputes, order_disputes_answer
        from payments.order_words import order_move_words_register
        from payments.selectors.staff import staff_todo_section_register
        from payments.services.webhooks import webhook_handlers_register

        # Payments' pipeline applies Stripe's dispute events. Disputes is installed after payments
        # and before connect, so on charge.dispute.funds_withdrawn the dispute is applied before
        # connect's best-effort re-read of the seller's balance.
        webhook_handlers_register({
            event_type: dispute_event_apply
            for event_type in (
                "charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed",
                "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated",
            )
        })

        # What payments' refunds, payment status, seller's money and staff search ask about an
        # order's disputes (payments/order_disputes.py).
        order_disputes_answer(OrderDisputes(
            refund_allowed=selectors.order_dispute_refund_allowed,
            payment_state=selectors.payment_dispute_state,
            sale_money=selectors.sale_dispute_money,
            money_prefetch=selectors.MONEY_PREFETCH,
            balance_causes=selectors.seller_dispute_debits,
            orders_by_stripe_id=selectors.orders_by_dispute_id,
            sellers_disputed_since=selectors.sellers_disputed_since,
        ))

        # The order pages' timeline says a dispute's moves in the buyer's or the seller's words.
        order_move_words_register(dispute_move_words)

        # First on the admin index's to-do: the bank's deadlines do not wait.
        staff_todo_section_register(permission="disputes.view_dispute", build=selectors.staff_todo_disputes)
