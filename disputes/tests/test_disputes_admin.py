"""The admin dispute page: evidence prefilled, saved as a draft, submitted, accepted; only the
Support and Finance roles see the buttons, and the server refuses a direct POST from anyone else."""

import pytest
import stripe
from django.contrib.auth.models import Group

from accounts.tests.factories import UserFactory
from payments.models import AuditEvent, OrderStatus
from payments.staff import SUPPORT, staff_groups_ensure
from payments.tests.webhook_support import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(support, client):
    """The disputes conftest's Support agent, logged in: these tests read the admin pages."""
    client.force_login(support)
    return support


def page_url(dispute):
    return f"/admin/disputes/dispute/{dispute.pk}/change/"


def respond_url(dispute):
    return f"/admin/disputes/dispute/{dispute.pk}/respond/"


def form_of(dispute, **changes):
    from disputes.services import dispute_evidence_initial

    return {**dispute_evidence_initial(dispute=dispute), **changes}


def test_the_page_prefills_the_tracking_number_and_ship_date_from_mark_shipped(client, support, dispute):
    page = client.get(page_url(dispute)).content.decode()

    assert 'value="1Z999AA10123456784"' in page
    assert f'value="{dispute.order.shipped_at.date().isoformat()}"' in page
    assert dispute.order.buyer.email in page and "the stub never arrived" in page
    assert "Save draft" in page and "Submit evidence to the bank" in page and "Accept the dispute" in page


def test_save_draft_then_submit_through_the_page(client, support, dispute, webhook_sandbox):
    draft = client.post(respond_url(dispute), {**form_of(dispute), "action": "draft"})
    assert draft.status_code == 302
    on_stripe = stripe.Dispute.retrieve(dispute.stripe_dispute_id, stripe_account=dispute.stripe_account_id)
    assert on_stripe.status == "needs_response"
    assert on_stripe.evidence.shipping_tracking_number == "1Z999AA10123456784"

    asked = client.post(respond_url(dispute), {**form_of(dispute), "action": "submit"})
    assert asked.status_code == 200 and "The bank gets this once" in asked.content.decode()
    assert stripe.Dispute.retrieve(dispute.stripe_dispute_id,
                                   stripe_account=dispute.stripe_account_id).status == "needs_response"
    submitted = client.post(respond_url(dispute), {**form_of(dispute), "action": "submit", "confirmed": "1"})
    deliver(webhook_sandbox)

    assert submitted.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == "under_review" and dispute.submitted_at is not None
    assert list(AuditEvent.objects.filter(order=dispute.order, actor=support, action__startswith="dispute.")
                .order_by("id").values_list("action", flat=True)) == [
        "dispute.evidence_draft_saved", "dispute.evidence_submitted"]
    page = client.get(page_url(dispute)).content.decode()
    assert "no longer takes a response" in page and "Submit evidence" not in page


def test_a_second_submit_says_already_submitted(client, support, dispute):
    client.post(respond_url(dispute), {**form_of(dispute), "action": "submit", "confirmed": "1"})
    again = client.post(respond_url(dispute), {**form_of(dispute), "action": "submit", "confirmed": "1"},
                        follow=True)
    assert "already been submitted" in again.content.decode()
    assert AuditEvent.objects.filter(order=dispute.order, action="stripe.dispute.update").count() == 1


def test_bad_evidence_is_shown_on_the_form_and_nothing_is_sent(client, support, dispute):
    response = client.post(respond_url(dispute), {**form_of(dispute, shipping_date="last tuesday"),
                                                  "action": "submit"})
    assert response.status_code == 200 and "Ship date must be a date" in response.content.decode()
    unknown = client.post(respond_url(dispute), {**form_of(dispute), "action": "explode"})
    assert unknown.status_code == 200
    assert not AuditEvent.objects.filter(order=dispute.order, action="stripe.dispute.update").exists()


def test_accept_asks_on_a_page_naming_the_consequence_and_nothing_happens_until_confirmed(
    client, support, dispute
):
    response = client.post(respond_url(dispute), {"action": "accept"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "This cannot be undone" in page and dispute.accept_consequence in page
    assert 'class="button danger" id="confirm-accept"' in page and 'id="go-back"' in page
    dispute.refresh_from_db()
    assert dispute.accepted_at is None and dispute.status == "needs_response"
    assert not AuditEvent.objects.filter(order=dispute.order, action__startswith="stripe.dispute.").exists()


def test_accept_warns_while_the_seller_still_has_time_to_answer(client, support, dispute):
    page = client.post(respond_url(dispute), {"action": "accept"}).content.decode()
    assert 'id="seller-still-has-time"' in page and "The seller has not added their side yet" in page

    dispute.seller_note_at = dispute.created_at
    dispute.save(update_fields=["seller_note_at"])
    page = client.post(respond_url(dispute), {"action": "accept"}).content.decode()
    assert 'id="seller-still-has-time"' not in page


def test_submit_shows_the_evidence_that_will_be_sent_and_keeps_it_for_the_confirmation(
    client, support, dispute
):
    page = client.post(respond_url(dispute), {**form_of(dispute), "action": "submit"}).content.decode()

    assert "1Z999AA10123456784" in page  # the summary and the hidden field carried to the next step
    assert 'name="confirmed" value="1"' in page and 'id="confirm-submit"' in page


def test_a_confirmed_accept_closes_the_dispute_and_the_seller_is_told_staff_accepted_it(
    client, support, dispute, webhook_sandbox, mailoutbox, django_capture_on_commit_callbacks
):
    response = client.post(respond_url(dispute), {"action": "accept", "confirmed": "1"})
    with django_capture_on_commit_callbacks(execute=True):
        deliver(webhook_sandbox)

    assert response.status_code == 302
    dispute.refresh_from_db()
    dispute.order.refresh_from_db()
    assert dispute.status == "lost" and dispute.order.status == OrderStatus.DISPUTE_LOST
    assert dispute.accepted_by_staff
    assert dispute.status_for_seller == "Accepted by our staff: the money went back to the buyer"
    closed = [m for m in mailoutbox if "is closed" in m.subject]
    assert closed and "our staff accepted it" in closed[-1].subject
    assert "Our staff accepted the dispute" in closed[-1].body and "bank decided" not in closed[-1].body


def test_the_page_has_no_inline_script_and_the_irreversible_buttons_look_dangerous(client, support, dispute):
    page = client.get(page_url(dispute)).content.decode()

    assert "onclick" not in page and "style=" not in page
    assert 'value="accept" class="button danger"' in page


def test_staff_without_the_role_see_no_buttons_and_a_direct_post_is_refused(client, dispute):
    staff_groups_ensure()
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(*Group.objects.get(name=SUPPORT).permissions.exclude(codename="respond_dispute"))
    client.force_login(viewer)

    page = client.get(page_url(dispute))
    assert page.status_code == 200 and "Submit evidence" not in page.content.decode()
    for action in ("draft", "submit", "accept"):
        assert client.post(respond_url(dispute), {**form_of(dispute), "action": action}).status_code == 403
    assert not AuditEvent.objects.filter(order=dispute.order, action__startswith="stripe.dispute.").exists()


def test_non_staff_and_strangers_cannot_reach_the_page(client, dispute):
    assert client.get(page_url(dispute)).status_code == 302  # to the admin login
    client.force_login(dispute.order.seller)
    assert client.post(respond_url(dispute), {"action": "accept"}).status_code == 302
    dispute.refresh_from_db()
    assert dispute.accepted_at is None


def test_an_unknown_dispute_is_404(client, support):
    assert client.get("/admin/disputes/dispute/999999/respond/").status_code == 404
