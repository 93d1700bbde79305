"""payments/migrations/0015_ratings_moved_out.py's data step, run against today's models: the
content types of Feedback and SellerRating go to the ratings app with what hangs on them
(permissions, the groups and users given them, admin log entries), and the way back undoes it.
The tables themselves never change (the move is in the migration state)."""

import importlib

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from accounts.tests.factories import UserFactory
from payments.models import OrderStatus
from payments.staff import staff_groups_ensure
from payments.tests.factories import PaidOrderFactory
from ratings.models import Feedback, SellerRating
from ratings.services import feedback_leave
from testing.content_types import content_type_labels

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("content_type_cache_cleared")]

migration = importlib.import_module("payments.migrations.0015_ratings_moved_out")
MOVED = ("feedback", "sellerrating")


def as_before_the_move():
    """The database as it was with the models in payments: their content types labelled payments."""
    migration.content_types_to_payments(apps, None)


@pytest.fixture
def staff_world():
    staff_groups_ensure()  # makes every app's permissions
    order = PaidOrderFactory(status=OrderStatus.COMPLETED)
    feedback = feedback_leave(order_id=order.pk, buyer=order.buyer, rating=4)
    moderators = Group.objects.create(name="Moderators")
    moderators.permissions.add(
        Permission.objects.get(content_type__app_label="ratings", codename="change_feedback")
    )
    moderator = UserFactory(is_staff=True)
    moderator.groups.add(moderators)
    direct = UserFactory(is_staff=True)
    direct.user_permissions.add(
        Permission.objects.get(content_type__app_label="ratings", codename="view_sellerrating")
    )
    entry = LogEntry.objects.log_actions(
        user_id=moderator.pk, queryset=[feedback], action_flag=CHANGE, change_message="Hidden",
        single_object=True,
    )
    return {"feedback": feedback, "moderator": moderator, "direct": direct, "entry": entry}


def fresh(user):
    return type(user).objects.get(pk=user.pk)  # no cached permissions


def test_the_way_back_gives_the_content_types_to_payments(staff_world):
    as_before_the_move()

    assert content_type_labels(MOVED) == {("payments", "feedback"), ("payments", "sellerrating")}
    assert fresh(staff_world["moderator"]).has_perm("payments.change_feedback")
    assert fresh(staff_world["direct"]).has_perm("payments.view_sellerrating")


def test_the_move_hands_over_content_types_permissions_grants_and_the_admin_log(staff_world):
    as_before_the_move()

    migration.content_types_to_ratings(apps, None)

    assert content_type_labels(MOVED) == {("ratings", "feedback"), ("ratings", "sellerrating")}
    assert fresh(staff_world["moderator"]).has_perm("ratings.change_feedback")
    assert not fresh(staff_world["moderator"]).has_perm("payments.change_feedback")
    assert fresh(staff_world["direct"]).has_perm("ratings.view_sellerrating")
    entry = LogEntry.objects.get(pk=staff_world["entry"].pk)
    assert entry.get_edited_object() == staff_world["feedback"]
    assert entry.get_admin_url() == f"/admin/ratings/feedback/{staff_world['feedback'].pk}/change/"
    # Rows untouched: the same tables under the new app.
    assert Feedback._meta.db_table == "payments_feedback"
    assert SellerRating._meta.db_table == "payments_sellerrating"
    assert Feedback.objects.get(pk=staff_world["feedback"].pk).rating == 4


def test_content_types_made_for_ratings_before_the_move_take_over_what_payments_had(staff_world):
    """A partial migrate (`migrate ratings`) lets post_migrate make the ratings app's content
    types and permissions while payments' still carry the grants: the move merges them."""
    as_before_the_move()
    ContentType.objects.create(app_label="ratings", model="feedback")
    ContentType.objects.create(app_label="ratings", model="sellerrating")
    staff_groups_ensure()  # makes the ratings app's own permissions

    migration.content_types_to_ratings(apps, None)

    assert content_type_labels(MOVED) == {("ratings", "feedback"), ("ratings", "sellerrating")}
    assert Permission.objects.filter(codename="change_feedback").count() == 1
    assert fresh(staff_world["moderator"]).has_perm("ratings.change_feedback")
    assert fresh(staff_world["direct"]).has_perm("ratings.view_sellerrating")
    assert LogEntry.objects.get(pk=staff_world["entry"].pk).get_edited_object() == staff_world["feedback"]
