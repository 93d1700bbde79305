from django.apps import AppConfig


class RatingsConfig(AppConfig):
    """Buyers' feedback on orders, sellers' replies and each seller's reputation."""

    name = "ratings"

    def ready(self):
        # The app's own modules are imported here, not at the top: they load models, which
        # exist only once the app registry is ready (this method).
        from django.db.models.signals import post_migrate, post_save

        from marketplace import page_cache
        from payments.signals import order_status_changed
        from ratings.db import install_after_migrate
        from ratings.models import Feedback
        from ratings.selectors import reputation_follow_order_status
        from ratings.services import feedback_follow_order_status

        # The feedback trigger also in databases made without migrations (the test run's).
        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="ratings_feedback_trigger")

        # New, answered or hidden feedback shows on cached seller and listing pages at once.
        post_save.connect(
            page_cache.catalogue_changed, sender=Feedback, dispatch_uid="ratings_feedback_pages"
        )

        # A rating counts only while its order stands (a full refund or a lost dispute undoes it).
        order_status_changed.connect(feedback_follow_order_status, dispatch_uid="ratings_follow_order")
        # The seller's "stubs sold" follows every change of an order's status (ratings.selectors).
        order_status_changed.connect(reputation_follow_order_status, dispatch_uid="ratings_reputation_orders")
