"""Reads of conversations: one for a party (404 for anybody else), a user's inbox, and the
header's unread count, cached per user (docs/architecture.md, "Messages")."""

from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum

from core.errors import NotFound
from core.sessions import NOT_READ, session_prefetched
from marketplace.page_cache import cache_get_many, cache_set
from messaging.models import Conversation, Message, Participant

# Kept current on every change (messaging.services), so the long life only matters when a
# change's refresh was lost: then the count is at most a day stale before it is read again.
UNREAD_CACHE_SECONDS = 24 * 60 * 60


class ConversationNotFound(NotFound):
    code = "conversation_not_found"
    message = "No such conversation."


def _party_filter(user) -> Q:
    return Q(buyer_id=user.pk) | Q(seller_id=user.pk)


def conversation_for_party(*, conversation_id, user) -> Conversation:
    """The conversation if `user` is its buyer or seller; ConversationNotFound for everybody else
    (staff included: they read in admin), so nobody learns that it exists."""
    try:
        conversation_id = int(conversation_id)
        return Conversation.objects.select_related("listing__stub", "order", "buyer", "seller").get(
            _party_filter(user), pk=conversation_id
        )
    except (Conversation.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ConversationNotFound() from None


def conversation_messages(*, conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.select_related("sender").order_by("created_at", "pk")


def listing_question_thread(*, listing_id: int, buyer) -> Conversation | None:
    return Conversation.objects.filter(kind="listing", listing_id=listing_id, buyer_id=buyer.pk).first()


def inbox(*, user) -> QuerySet[Participant]:
    """The user's conversations, the latest message first, each with its unread count and the
    start of its last message: one query whatever the number of conversations."""
    last = Message.objects.filter(conversation_id=OuterRef("conversation_id")).order_by("-created_at", "-pk")
    return (
        Participant.objects.filter(user=user, conversation__last_message_at__isnull=False)
        .select_related("conversation__listing__stub", "conversation__buyer", "conversation__seller")
        .annotate(
            last_body=Subquery(last.values("body")[:1]),
            last_as_staff=Subquery(last.values("as_staff")[:1]),
            last_sender_id=Subquery(last.values("sender_id")[:1]),
        )
        .order_by("-conversation__last_message_at", "-conversation_id")
    )


def _unread_key(user_id: int) -> str:
    return f"messaging:unread:{user_id}"


def unread_count_read(*, user_id: int) -> int:
    """The user's unread messages from the database: one aggregate on an index."""
    return Participant.objects.filter(user_id=user_id, unread__gt=0).aggregate(n=Sum("unread"))["n"] or 0


def unread_keys(user_id: int) -> list[str]:
    """What core.sessions reads with a logged-in visitor's session (messaging's AppConfig.ready)."""
    return [_unread_key(user_id)]


def unread_count(*, user, request=None) -> int:
    """The header's count: from the cache (set at log-in and on every change; read with the
    request's session when it can be, core.sessions.read_with_session), else one query."""
    found = NOT_READ if request is None else session_prefetched(request, _unread_key(user.pk))
    if found is not NOT_READ and found is not None:
        return found
    cached = cache_get_many([_unread_key(user.pk)]) if found is NOT_READ else {}
    if cached:
        return cached[_unread_key(user.pk)]
    count = unread_count_read(user_id=user.pk)
    if cached is not None:  # the cache answered, it just did not have it
        cache_set(_unread_key(user.pk), count, UNREAD_CACHE_SECONDS)
    return count


def unread_count_refresh(*, user_id: int) -> None:
    """Count again and file it: after a message arrives or the user read one."""
    cache_set(_unread_key(user_id), unread_count_read(user_id=user_id), UNREAD_CACHE_SECONDS)


def unread_count_warm(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver: the first page after logging in finds the count in the cache."""
    unread_count_refresh(user_id=user.pk)
