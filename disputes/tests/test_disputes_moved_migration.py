"""payments/migrations/0016_disputes_moved_out.py's data step, run against today's models: the
dispute models' content types go to the disputes app with what hangs on them (permissions, the
groups and users given them, admin log entries), respond_dispute moves from Order to Dispute, and
the way back undoes it. The tables themselves never change (the move is in the migration state)."""

import importlib

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from accounts.tests.factories import UserFactory
from disputes.models import Dispute, DisputeEvidenceFile
from disputes.tests.factories import DisputeFactory
from payments.staff import FINANCE, SUPPORT, staff_groups_ensure
from testing.content_types import content_type_labels

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("content_type_cache_cleared")]

migration = importlib.import_module("payments.migrations.0016_disputes_moved_out")
MOVED = ("dispute", "disputeevidencefile")


def content_types() -> set[tuple[str, str]]:
    return content_type_labels(MOVED, ignore_apps=("djstripe",))  # dj-stripe has a Dispute too


def respond_dispute_on() -> set[tuple[str, str]]:
    return set(Permission.objects.filter(codename="respond_dispute")
               .values_list("content_type__app_label", "content_type__model"))


def as_before_the_move():
    """The database as it was with the models in payments: their content types labelled payments,
    respond_dispute declared on Order."""
    migration.disputes_hand_back(apps, None)


@pytest.fixture
def staff_world():
    staff_groups_ensure()
    dispute = DisputeFactory()
    agent = UserFactory(is_staff=True)
    agent.groups.add(Group.objects.get(name=SUPPORT))
    direct = UserFactory(is_staff=True)
    direct.user_permissions.add(Permission.objects.get(codename="respond_dispute"))
    entry = LogEntry.objects.log_actions(
        user_id=agent.pk, queryset=[dispute], action_flag=CHANGE, change_message="Answered",
        single_object=True,
    )
    return {"dispute": dispute, "agent": agent, "direct": direct, "entry": entry}


def fresh(user):
    return type(user).objects.get(pk=user.pk)  # no cached permissions


def test_the_way_back_gives_the_content_types_and_the_permission_to_payments(staff_world):
    as_before_the_move()

    assert content_types() == {("payments", "dispute"), ("payments", "disputeevidencefile")}
    assert respond_dispute_on() == {("payments", "order")}
    assert fresh(staff_world["agent"]).has_perm("payments.respond_dispute")
    assert fresh(staff_world["direct"]).has_perm("payments.respond_dispute")


def test_the_move_hands_over_content_types_permissions_grants_and_the_admin_log(staff_world):
    as_before_the_move()

    migration.disputes_hand_over(apps, None)

    assert content_types() == {("disputes", "dispute"), ("disputes", "disputeevidencefile")}
    assert respond_dispute_on() == {("disputes", "dispute")}
    for user in (staff_world["agent"], staff_world["direct"]):
        assert fresh(user).has_perm("disputes.respond_dispute")
    assert fresh(staff_world["agent"]).has_perm("disputes.view_dispute")
    entry = LogEntry.objects.get(pk=staff_world["entry"].pk)
    assert entry.get_edited_object() == staff_world["dispute"]
    assert entry.get_admin_url() == f"/admin/disputes/dispute/{staff_world['dispute'].pk}/change/"
    # Rows untouched: the same tables under the new app.
    assert Dispute._meta.db_table == "payments_dispute"
    assert DisputeEvidenceFile._meta.db_table == "payments_disputeevidencefile"
    assert Dispute.objects.get(pk=staff_world["dispute"].pk).order_id == staff_world["dispute"].order_id


def test_content_types_made_for_disputes_before_the_move_take_over_what_payments_had(staff_world):
    """A partial migrate (`migrate disputes`) lets post_migrate make the disputes app's content
    types and permissions while payments' still carry the grants: the move merges them."""
    as_before_the_move()
    ContentType.objects.create(app_label="disputes", model="dispute")
    ContentType.objects.create(app_label="disputes", model="disputeevidencefile")
    staff_groups_ensure()  # makes the disputes app's own permissions, respond_dispute among them

    migration.disputes_hand_over(apps, None)

    assert content_types() == {("disputes", "dispute"), ("disputes", "disputeevidencefile")}
    assert respond_dispute_on() == {("disputes", "dispute")}
    assert Permission.objects.filter(codename="view_dispute", content_type__app_label="disputes").count() == 1
    for user in (staff_world["agent"], staff_world["direct"]):
        assert fresh(user).has_perm("disputes.respond_dispute")
    assert LogEntry.objects.get(pk=staff_world["entry"].pk).get_edited_object() == staff_world["dispute"]


def test_both_staff_groups_answer_and_view_disputes_after_the_move():
    staff_groups_ensure()
    as_before_the_move()
    Group.objects.get(name=FINANCE).permissions.clear()  # a database whose groups predate disputes

    migration.disputes_hand_over(apps, None)

    for name in (SUPPORT, FINANCE):
        permissions = Group.objects.get(name=name).permissions
        held = set(permissions.values_list("content_type__app_label", "codename"))
        assert {("disputes", "respond_dispute"), ("disputes", "view_dispute")} <= held, name
