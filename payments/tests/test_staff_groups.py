"""payments/staff.py's `staff_groups_ensure`: the two groups get exactly their permissions, in a
few queries (tests call it for every Support or Finance user they make), and a second call
changes nothing."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.staff import FINANCE, GROUP_PERMISSIONS, SUPPORT, VIEW_MODELS, staff_groups_ensure

pytestmark = pytest.mark.django_db


def granted(name: str) -> set[tuple[str, str]]:
    return set(Group.objects.get(name=name).permissions.values_list("content_type__app_label", "codename"))


def test_each_group_gets_the_view_permissions_and_its_own():
    staff_groups_ensure()

    views = {(app_label, f"view_{model}") for app_label, model in VIEW_MODELS}
    for name in (SUPPORT, FINANCE):
        assert granted(name) == views | set(GROUP_PERMISSIONS[name]), name


def test_a_second_call_changes_nothing_and_reads_in_a_few_queries():
    staff_groups_ensure()
    before = {name: granted(name) for name in (SUPPORT, FINANCE)}

    with CaptureQueriesContext(connection) as queries:
        staff_groups_ensure()

    assert {name: granted(name) for name in (SUPPORT, FINANCE)} == before
    assert Group.objects.filter(name__in=(SUPPORT, FINANCE)).count() == 2
    assert len(queries) <= 10, [query["sql"] for query in queries]
