"""Double clicks that arrive at once, on PostgreSQL where select_for_update really locks
(skipped on SQLite): one conversation and one message however many requests race."""

import pytest

from messaging.models import Conversation, Message, Participant
from messaging.services import order_conversation_open, question_ask
from testing.threads import run_at_once

pytestmark = pytest.mark.postgres

RACERS = 4


def test_the_same_first_question_sent_at_once_makes_one_conversation_and_one_message(
    transactional_db, buyer, seller, listing
):
    outcomes = run_at_once(
        [
            lambda: question_ask(listing_id=listing.pk, buyer=buyer, body="Is it signed?")
            for _ in range(RACERS)
        ]
    )

    assert [repr(o) for o in outcomes if isinstance(o, Exception)] == []
    assert Conversation.objects.count() == 1 and Message.objects.count() == 1
    assert len({message.pk for message in outcomes}) == 1
    assert Participant.objects.get(user=seller).unread == 1


def test_both_parties_opening_an_order_conversation_at_once_share_one(transactional_db, order, buyer, seller):
    outcomes = run_at_once(
        [
            lambda user=user: order_conversation_open(order_id=order.pk, user=user)
            for user in (buyer, seller) * 2
        ]
    )

    assert [repr(o) for o in outcomes if isinstance(o, Exception)] == []
    assert len({conversation.pk for conversation in outcomes}) == 1
    assert Participant.objects.filter(conversation_id=outcomes[0].pk).count() == 2
