"""Admin for orders, refunds, payments, webhook deliveries and the audit trail.

Money and Stripe fields are read-only: an order's status only moves through `order_transition`
(webhooks, checkout, ship/complete), and refunds go through the one refund service
(`payments.services.refunds`) from the "Refund" button on an order's page or the "Refund in
full" action on the list, each with a confirmation page that says what will happen before
anything is sent. Who may refund how much is decided by `refund_permission_check`, the same
check as the refund route; staff who may not refund see neither the button nor the action.
"""

from payments.admin import audit, fraud, orders, refunds  # noqa: F401  (each registers its models)
