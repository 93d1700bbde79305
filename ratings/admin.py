"""Admin for ratings and feedback: staff read everything and hide abusive feedback (or show it
again) through ratings.services, so each change is audited and the seller's average
follows. Ratings, comments and answers are the buyer's and seller's words: read-only here."""

from django.contrib import admin, messages

from core.ids import id_in_range
from ratings.models import Feedback, SellerRating
from ratings.services import feedback_set_hidden


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ("id", "order", "seller", "buyer", "rating", "short_comment", "hidden", "excluded_reason",
                    "created_at")
    list_filter = ("hidden", "excluded_reason", "rating")
    search_fields = ("seller__username", "buyer__username", "comment", "reply", "order__id")
    list_select_related = ("order", "seller", "buyer")
    # excluded_*: set when the order was refunded in full or lost in a dispute (the rating then
    # counts in no average), by ratings.services.feedback_follow_order only.
    readonly_fields = ("order", "buyer", "seller", "rating", "comment", "reply", "replied_at", "created_at",
                       "excluded_reason", "excluded_at")
    fields = (*readonly_fields, "hidden", "hidden_reason")
    actions = ("hide_feedback", "show_feedback")

    @admin.display(description="Comment")
    def short_comment(self, obj):
        return (obj.comment[:60] + "…") if len(obj.comment) > 60 else obj.comment

    def has_add_permission(self, request):
        return False  # only buyers leave feedback, through their order page

    def has_delete_permission(self, request, obj=None):
        return False  # hide, never delete: the trail stays

    def save_model(self, request, obj, form, change):
        # `hidden` goes through the service (audited, average recounted), never a bare save.
        if "hidden" in form.changed_data or "hidden_reason" in form.changed_data:
            reason = form.cleaned_data.get("hidden_reason") or "Hidden by staff as abusive"
            feedback_set_hidden(feedback_id=obj.pk, staff=request.user, hidden=obj.hidden,
                                reason=reason, request=request)

    @admin.action(description="Hide the selected feedback (abusive)", permissions=["change"])
    def hide_feedback(self, request, queryset):
        for feedback in queryset:
            feedback_set_hidden(feedback_id=feedback.pk, staff=request.user, hidden=True,
                                reason="Hidden by staff as abusive", request=request)
        self.message_user(request, f"Hid {queryset.count()} feedback.", messages.SUCCESS)

    @admin.action(description="Show the selected feedback again", permissions=["change"])
    def show_feedback(self, request, queryset):
        for feedback in queryset:
            feedback_set_hidden(feedback_id=feedback.pk, staff=request.user, hidden=False, request=request)
        self.message_user(request, f"Showed {queryset.count()} feedback again.", messages.SUCCESS)


@admin.register(SellerRating)
class SellerRatingAdmin(admin.ModelAdmin):
    list_display = ("seller", "average", "count", "updated_at")
    readonly_fields = ("seller", "average", "count", "updated_at")
    search_fields = ("seller__username",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_object(self, request, object_id, from_field=None):
        # The primary key is the seller's foreign key: Django does not keep an out-of-range id
        # out of that lookup (core/ids.py), so it is "no such rating" here.
        if not id_in_range(object_id):
            return None
        return super().get_object(request, object_id, from_field)
