"""Finance's reconciliation pages in admin: who sees them, what they show, and the fixes as
admin actions (audited, refused the second time)."""

import pytest
from django.contrib.messages import get_messages

from payments.models import AuditEvent, OrderStatus
from payments.staff import SUPPORT
from payments.tests.factories import staff_member
from payments.tests.webhook_support import pay, sandbox_order
from reconciliation.models import DifferenceKind as K
from reconciliation.tests.conftest import reconcile

pytestmark = pytest.mark.django_db

RUNS = "/admin/reconciliation/reconciliationrun/"
DIFFERENCES = "/admin/reconciliation/difference/"


@pytest.fixture
def missed(stripe_sandbox):
    """A payment whose events never reached us, found by a run."""
    order = sandbox_order(stripe_sandbox)
    pay(order)
    run, found = reconcile()
    return run, found[K.PAYMENT_MISSED][0]


def test_finance_sees_the_runs_and_each_difference_links_to_its_order(client, finance, missed):
    run, difference = missed
    client.force_login(finance)

    runs = client.get(RUNS)
    page = client.get(DIFFERENCES, {"run__id__exact": run.pk})

    assert runs.status_code == 200 and f"Reconciliation #{run.pk}" in runs.content.decode()
    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="/admin/payments/order/{difference.order_id}/change/"' in html
    assert difference.stripe_object_id in html
    assert client.get(f"{DIFFERENCES}{difference.pk}/change/").status_code == 200


@pytest.mark.parametrize("group", [SUPPORT, None])
def test_other_staff_get_403(client, missed, group):
    client.force_login(staff_member(group))

    assert client.get(RUNS).status_code == 403
    assert client.get(DIFFERENCES).status_code == 403
    assert client.get(f"{DIFFERENCES}{missed[1].pk}/change/").status_code == 403


def test_support_cannot_run_a_fix_by_posting_the_action(client, missed):
    _, difference = missed
    client.force_login(staff_member(SUPPORT))

    response = client.post(DIFFERENCES, {"action": "apply_missed_event", "_selected_action": [difference.pk]})

    assert response.status_code == 403
    difference.order.refresh_from_db()
    assert difference.order.status == OrderStatus.PENDING_PAYMENT


def test_anonymous_visitors_are_sent_to_log_in(client, missed):
    response = client.get(DIFFERENCES)

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_finance_applies_the_missed_event_from_the_list_once(client, finance, missed):
    _, difference = missed
    client.force_login(finance)
    action = {"action": "apply_missed_event", "_selected_action": [difference.pk]}

    first = client.post(DIFFERENCES, action, follow=True)
    second = client.post(DIFFERENCES, action, follow=True)

    difference.order.refresh_from_db()
    assert difference.order.status == OrderStatus.PAID
    assert [str(m) for m in get_messages(first.wsgi_request)] == [f"Difference {difference.pk}: fixed."]
    assert "Already resolved" in second.content.decode()
    assert AuditEvent.objects.filter(action="reconciliation.event_applied", actor=finance).count() == 1


def test_the_wrong_fix_is_refused_with_a_message_not_an_error(client, finance, missed):
    _, difference = missed
    client.force_login(finance)

    response = client.post(
        DIFFERENCES, {"action": "adopt_refund", "_selected_action": [difference.pk]}, follow=True
    )

    assert response.status_code == 200
    assert "is not the fix" in response.content.decode()
