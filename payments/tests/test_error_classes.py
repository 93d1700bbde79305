"""One class per domain error, whichever module raises it: a caller catching it from one place
also catches it from the other."""

from payments.services import fulfilment, refunds


def test_order_not_found_is_the_refund_services_class_everywhere():
    assert fulfilment.OrderNotFound is refunds.OrderNotFound
    assert (refunds.OrderNotFound.code, refunds.OrderNotFound.status) == ("order_not_found", 404)
