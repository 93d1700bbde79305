"""Staff answer a dispute in admin: the seller shipped with a tracking number and added their
side; a chargeback arrives by webhook; Support finds it on the Disputes page (nearest deadline
first), sees the evidence prefilled with the tracking number, submits it, and the dispute is won
(the sandbox's test mode reads `winning_evidence`) and the order goes back to shipped."""

import pytest
import stripe
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD, SellerFactory, UserFactory
from disputes.models import Dispute
from disputes.services import dispute_seller_note_save
from payments.models import OrderStatus
from payments.services.fulfilment import order_ship
from payments.staff import SUPPORT, staff_groups_ensure
from payments.tests.webhook_support import pay, sandbox_order

pytestmark = pytest.mark.django_db(transaction=True)

TRACKING = "1Z999AA10123456784"
POSTING_PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def disputed_order(stripe_live):
    sandbox = stripe_live.sandbox
    account = stripe_live.seller_account(email="seller@example.com")
    seller = SellerFactory(username="stubseller", email="seller@example.com", stripe_account_id=account["id"])
    order = sandbox_order(sandbox, seller=seller)
    pay(order)
    assert stripe_live.flush()
    order_ship(order_id=order.pk, seller=seller, tracking_number=TRACKING)
    intent = stripe.PaymentIntent.retrieve(order.payment_intent_id, stripe_account=account["id"])
    charge = intent.latest_charge
    sandbox.open_dispute(charge, reason="product_not_received")
    assert stripe_live.flush()
    dispute_seller_note_save(order_id=order.pk, seller=seller,
                             note="Posted first class; the buyer thanked me.")
    order.refresh_from_db()
    assert order.status == OrderStatus.DISPUTED
    return order


def test_support_answers_a_dispute_with_the_prefilled_tracking_number(page, stripe_live, disputed_order):
    staff_groups_ensure()
    support = UserFactory(username="support", is_staff=True)
    support.groups.add(Group.objects.get(name=SUPPORT))
    site = stripe_live.site_url

    page.goto(f"{site}/admin/login/")
    page.get_by_label("Username").fill("support")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{site}/admin/disputes/dispute/?state=open")
    row = page.locator("#result_list tbody tr").first
    expect(row).to_contain_text(f"#{disputed_order.pk}")
    expect(row).to_contain_text("$50.00")
    expect(row).to_contain_text("days left")
    row.locator("th a, td a").first.click()

    expect(page.get_by_label("Tracking number")).to_have_value(TRACKING)
    expect(page.locator("#seller-note")).to_contain_text("the buyer thanked me")
    page.get_by_label("Anything else (the seller's side, in their words)").fill(
        "Posted first class; the buyer thanked me. winning_evidence")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved on Stripe")).to_be_visible()
    # The certificate of posting, attached with the submission: it reaches Stripe before the
    # confirmation, which lists it.
    page.get_by_label("Proof of shipping").set_input_files(
        files=[{"name": "certificate-of-posting.pdf", "mimeType": "application/pdf", "buffer": POSTING_PDF}])
    page.get_by_role("button", name="Submit evidence to the bank").click()
    expect(page.locator("#consequence")).to_contain_text("cannot be changed or added to afterwards")
    expect(page.locator("#seller-still-has-time")).to_have_count(0)  # the seller added their side
    expect(page.get_by_text("winning_evidence")).to_be_visible()  # what the bank will read
    expect(page.locator("#evidence-files-summary")).to_contain_text("certificate-of-posting.pdf")
    page.get_by_role("link", name="No, go back").click()
    assert Dispute.objects.get(order=disputed_order).submitted_at is None
    page.get_by_role("button", name="Submit evidence to the bank").click()
    page.get_by_role("button", name="Yes, submit the evidence to the bank").click()
    expect(page.get_by_text("Evidence submitted to the bank.")).to_be_visible()

    assert stripe_live.flush()
    page.reload()
    expect(page.locator("#dispute-status")).to_have_text("Won")
    expect(page.locator("#evidence-files")).to_contain_text("certificate-of-posting.pdf")
    dispute = Dispute.objects.get(order=disputed_order)
    assert dispute.evidence_draft["shipping_tracking_number"] == TRACKING
    on_stripe = stripe.Dispute.retrieve(dispute.stripe_dispute_id, stripe_account=dispute.stripe_account_id)
    assert on_stripe.evidence.shipping_tracking_number == TRACKING
    posting = dispute.evidence_files.get()
    assert on_stripe.evidence.shipping_documentation == posting.stripe_file_id
    uploaded = stripe.File.retrieve(posting.stripe_file_id, stripe_account=dispute.stripe_account_id)
    assert (uploaded.purpose, uploaded.type) == ("dispute_evidence", "pdf")
    disputed_order.refresh_from_db()
    assert disputed_order.status == OrderStatus.SHIPPED


def test_support_accepts_a_dispute_only_after_a_page_that_names_the_consequence(page, stripe_live):
    sandbox = stripe_live.sandbox
    account = stripe_live.seller_account()
    seller = SellerFactory(username="quietseller", stripe_account_id=account["id"])
    order = sandbox_order(sandbox, seller=seller)
    pay(order)
    assert stripe_live.flush()
    intent = stripe.PaymentIntent.retrieve(order.payment_intent_id, stripe_account=account["id"])
    sandbox.open_dispute(intent.latest_charge, reason="fraudulent")
    assert stripe_live.flush()
    staff_groups_ensure()
    support = UserFactory(username="support2", is_staff=True)
    support.groups.add(Group.objects.get(name=SUPPORT))
    site = stripe_live.site_url
    page.goto(f"{site}/admin/login/")
    page.get_by_label("Username").fill("support2")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    dispute = Dispute.objects.get(order=order)

    page.goto(f"{site}/admin/disputes/dispute/{dispute.pk}/change/")
    page.get_by_role("button", name="Accept the dispute").click()
    expect(page.locator("#consequence")).to_contain_text("for good")
    expect(page.locator("#seller-still-has-time")).to_contain_text("has not added their side")
    dispute.refresh_from_db()
    assert dispute.accepted_at is None  # one click accepted nothing
    page.get_by_role("button", name="Yes, accept the dispute").click()
    expect(page.get_by_text("accepted on Stripe")).to_be_visible()
    assert stripe_live.flush()
    page.reload()
    expect(page.locator("#dispute-status")).to_have_text("Lost")
    dispute.refresh_from_db()
    assert dispute.status_for_seller == "Accepted by our staff: the money went back to the buyer"


def test_the_seller_attaches_proof_of_postage_on_a_phone_and_staff_see_it(page, stripe_live, disputed_order):
    site = stripe_live.site_url
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill("stubseller")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{site}/orders/{disputed_order.pk}/")

    page.get_by_label("What is it?").select_option(label="Proof of shipping")
    page.get_by_label("File (PDF, JPEG or PNG)").set_input_files(
        files=[{"name": "posting.pdf", "mimeType": "application/pdf", "buffer": POSTING_PDF}])
    page.get_by_role("button", name="Attach the file").click()

    expect(page.get_by_text("Attached “posting.pdf”")).to_be_visible()
    expect(page.locator("#dispute-files")).to_contain_text("Proof of shipping: posting.pdf")
    # The dispute panel and its form fit a phone (the page around it is other panels' business).
    assert page.locator("#dispute").evaluate("e => e.getBoundingClientRect().right") <= 390
    posting = Dispute.objects.get(order=disputed_order).evidence_files.get()
    assert posting.uploaded_by.username == "stubseller" and posting.file_type == "pdf"
