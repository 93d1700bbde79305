from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Conversations between a buyer and a seller: a listing's questions before a sale and an
    order's messages after it, with staff able to read and join any of them (docs/architecture.md,
    "Messages")."""

    name = "messaging"

    def ready(self):
        # Imported here, not at the top: the receivers load models, which exist only once the
        # app registry is ready (this method); the tasks module registers the email task's name.
        from django.contrib.auth.signals import user_logged_in

        from core.sessions import read_with_session
        from messaging import tasks  # noqa: F401
        from messaging.selectors import unread_count_warm, unread_keys

        # The header's unread count is in the cache from the first page after logging in, and
        # read in the same round trip as the visitor's session.
        user_logged_in.connect(unread_count_warm, dispatch_uid="messaging_unread_warm")
        read_with_session(unread_keys)
