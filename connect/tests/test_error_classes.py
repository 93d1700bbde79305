"""Connect raises marketplace's NotASeller (one class for every raiser) in its own words."""

import pytest

from accounts.tests.factories import UserFactory
from connect import services as connect
from marketplace import services as marketplace_services


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
