"""Demo conversations (seed_demo): buyers' questions on listings with the sellers' answers, one
question carrying an email address (so Support's queue in admin has a contact-details flag to
handle), and messages on a paid order. Made through the messaging services, as a buyer and a
seller would write them, so they are counted unread and flagged like real ones."""

from marketplace.models import Listing, ListingStatus
from messaging.services import message_post, order_conversation_open, question_ask

# (question, answer or "", follow-up or "")
DEMO_QUESTIONS = [
    (
        "Hi! Is the stub creased anywhere, or only the corner wear in the photo?",
        "Only the corner you can see; it has been in a sleeve since the show.",
        "Great, thanks. Buying it tonight.",
    ),
    ("Would you post it in a rigid mailer? It is a gift.", "Always: rigid mailer with a card sleeve.", ""),
    (
        "Is the date legible on the back? Could you send me a photo? "
        "My email is rosa.alvarez at gmail dot com",
        "",
        "",
    ),
]
DEMO_ORDER_MESSAGES = [
    ("buyer", "Thanks for the quick shipping! Is there a signature needed on delivery?"),
    ("seller", "No signature needed; it fits the mailbox. Enjoy it!"),
]


def create_demo_conversations(*, listings, buyers, orders) -> int:
    """Conversations on the first listings still on sale and on the first demo order; returns how
    many. The last question waits for the seller's answer (it shows as unread)."""
    on_sale = Listing.objects.filter(pk__in=[listing.pk for listing in listings], status=ListingStatus.ACTIVE)
    on_sale = list(on_sale.select_related("seller").order_by("pk"))
    made = 0
    for index, (listing, (question, answer, follow_up)) in enumerate(
        zip(on_sale, DEMO_QUESTIONS, strict=False)
    ):
        buyer = buyers[index % len(buyers)]
        message = question_ask(listing_id=listing.pk, buyer=buyer, body=question)
        if answer:
            message_post(conversation_id=message.conversation_id, sender=listing.seller, body=answer)
        if follow_up:
            message_post(conversation_id=message.conversation_id, sender=buyer, body=follow_up)
        made += 1
    for order in orders[:1]:
        conversation = order_conversation_open(order_id=order.pk, user=order.buyer)
        for who, text in DEMO_ORDER_MESSAGES:
            message_post(
                conversation_id=conversation.pk,
                sender=order.buyer if who == "buyer" else order.seller,
                body=text,
            )
        made += 1
    return made
