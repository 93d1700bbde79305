"""One class per domain error, whichever module raises it: a caller catching it from one place
also catches it from the other."""

import pytest

from accounts.tests.factories import UserFactory
from marketplace import services as marketplace_services
from payments.services import connect, fulfilment, refunds


def test_order_not_found_is_the_refund_services_class_everywhere():
    assert fulfilment.OrderNotFound is refunds.OrderNotFound
    assert (refunds.OrderNotFound.code, refunds.OrderNotFound.status) == ("order_not_found", 404)


@pytest.mark.django_db
def test_not_a_seller_is_marketplaces_class_in_connects_words():
    assert connect.NotASeller is marketplace_services.NotASeller

    with pytest.raises(marketplace_services.NotASeller) as refused:
        connect.seller_status(user=UserFactory())

    assert (refused.value.code, refused.value.status) == ("not_a_seller", 403)
    assert refused.value.message == (
        "Only sellers have a Stripe account. Start selling from your dashboard first."
    )
    assert marketplace_services.NotASeller().message.startswith("Only sellers can list stubs.")
