"""Every problem report route through the test client: who may use it (strangers, the other buyer,
another seller and staff on the site get 404; the other party 403 for the other's step), a report
made too early, bad input as a clear 4xx, double submits, escalating twice, the photos, Support's
decide page in admin, and the order page and seller page parts."""

import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from marketplace.tests.images import image_upload, photo_tasks_run
from payments.models import Order
from payments.tests.factories import staff_member
from problems.models import ProblemReport, ProblemStatus
from problems.services import problem_deadlines_apply

pytestmark = pytest.mark.django_db


def as_json(client, url, body=None, **headers):
    return client.post(
        url,
        json.dumps(body or {}),
        content_type="application/json",
        HTTP_ACCEPT="application/json",
        **headers,
    )


def paid_days_ago(order, days):
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - datetime.timedelta(days=days))
    order.refresh_from_db()
    return order


@pytest.fixture
def late_sale(sale):
    """Paid 15 days ago: past the delivery window, so "not received" may be reported."""
    return paid_days_ago(sale, 15)


@pytest.fixture
def report(late_sale, reported):
    return reported(late_sale, days=15)


def new_url(order):
    return f"/orders/{order.pk}/problem/"


# -- reporting ------------------------------------------------------------------------------------


def test_the_buyer_reports_not_received_after_the_window(late_sale, login, committed):
    with committed():
        response = as_json(
            login(late_sale.buyer),
            new_url(late_sale),
            {"kind": "not_received", "description": "Nothing in the post."},
        )
    assert response.status_code == 201, response.content
    report = ProblemReport.objects.get()
    assert response.json()["id"] == report.pk
    assert report.status == ProblemStatus.AWAITING_SELLER


def test_reporting_too_early_is_a_409_that_says_from_when(sale, login):
    paid_days_ago(sale, 3)
    response = as_json(login(sale.buyer), new_url(sale), {"kind": "not_received", "description": "Where?"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "report_too_early"
    page = login(sale.buyer).post(new_url(sale), {"kind": "not_received", "description": "Where?"})
    assert page.status_code == 409
    assert b"you can report it not received from" in page.content
    assert not ProblemReport.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "lost", "description": "x"},
        {"kind": "not_received", "description": ""},
        {"kind": "not_received", "description": "x" * 2001},
        {"kind": ["not_received"], "description": "x"},
        {"kind": "not_received", "description": {"a": 1}},
    ],
)
def test_bad_input_is_a_400(late_sale, login, body):
    response = as_json(login(late_sale.buyer), new_url(late_sale), body)
    assert response.status_code == 400, response.content
    assert not ProblemReport.objects.exists()


def test_a_file_that_is_not_a_photo_is_a_400(shipped, login):
    paid_days_ago(shipped, 5)
    fake = SimpleUploadedFile("photo.jpg", b"not a jpeg", content_type="image/jpeg")
    response = login(shipped.buyer).post(
        new_url(shipped), {"kind": "not_as_described", "description": "Torn", "photos": [fake]}
    )
    assert response.status_code == 400
    assert b"not a photo" in response.content
    assert not ProblemReport.objects.exists()


def test_a_double_submit_is_one_report(late_sale, login):
    client = login(late_sale.buyer)
    body = {"kind": "not_received", "description": "Nothing yet."}
    first = as_json(client, new_url(late_sale), body)
    second = as_json(client, new_url(late_sale), body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["duplicate"] is True and second.json()["id"] == first.json()["id"]
    assert client.get(new_url(late_sale)).status_code == 302


@pytest.mark.parametrize("who", ["stranger", "seller", "other_seller", "support"])
def test_only_the_buyer_may_report(late_sale, login, who, stranger, other_seller, support):
    user = {
        "stranger": stranger,
        "seller": late_sale.seller,
        "other_seller": other_seller,
        "support": support,
    }[who]
    client = login(user)
    assert client.get(new_url(late_sale)).status_code == 404
    assert (
        as_json(client, new_url(late_sale), {"kind": "not_received", "description": "x"}).status_code == 404
    )
    assert not ProblemReport.objects.exists()


def test_a_visitor_is_sent_to_log_in(late_sale, client):
    assert client.get(new_url(late_sale)).status_code == 302
    assert as_json(client, new_url(late_sale), {"kind": "not_received"}).status_code == 403


def test_photos_of_what_arrived_are_kept_privately_and_shown_to_the_parties(
    shipped, login, support, stranger
):
    paid_days_ago(shipped, 5)
    with photo_tasks_run():
        response = login(shipped.buyer).post(
            new_url(shipped),
            {
                "kind": "not_as_described",
                "description": "The corner is torn.",
                "photos": [image_upload(), image_upload("PNG")],
            },
        )
    assert response.status_code == 302
    report = ProblemReport.objects.get()
    photo = report.photos.first()
    assert report.photos.count() == 2 and photo.state == "ready"
    url = f"/problems/{report.pk}/photos/{photo.pk}/"
    for user in (shipped.buyer, shipped.seller, support):
        got = login(user).get(url)
        assert got.status_code == 200 and got["Content-Type"] == "image/jpeg", user
        assert "private" in got["Cache-Control"]
    assert login(shipped.buyer).get(url + "?size=thumb")["Content-Type"] == "image/webp"
    assert login(stranger).get(url).status_code == 404
    assert b"corner is torn" in login(shipped.seller).get(f"/problems/{report.pk}/").content


def test_too_many_photos_is_a_400(shipped, login):
    paid_days_ago(shipped, 5)
    response = login(shipped.buyer).post(
        new_url(shipped),
        {"kind": "not_as_described", "description": "Torn", "photos": [image_upload() for _ in range(5)]},
    )
    assert response.status_code == 400


# -- the report's page and steps ----------------------------------------------------------------


def test_the_report_page_is_the_parties_only(report, login, stranger, other_seller, support):
    for user in (report.buyer, report.seller):
        assert login(user).get(f"/problems/{report.pk}/").status_code == 200
    for user in (stranger, other_seller, support):
        assert login(user).get(f"/problems/{report.pk}/").status_code == 404
    assert login(stranger).get("/problems/999999999999999999999/").status_code == 404


@pytest.mark.parametrize("step", ["reply", "refund", "escalate", "close"])
def test_strangers_and_the_other_party_are_refused_each_step(report, login, stranger, other_seller, step):
    seller_step = step in ("reply", "refund")
    wrong_party = report.buyer if seller_step else report.seller
    url = f"/problems/{report.pk}/{step}/"
    body = {"body": "hello"} if step == "reply" else {}
    for user in (stranger, other_seller):
        assert as_json(login(user), url, body).status_code == 404
    assert as_json(login(wrong_party), url, body).status_code == 403
    report.refresh_from_db()
    assert report.status == ProblemStatus.AWAITING_SELLER
    assert not report.order.refunds.exists()


def test_the_seller_replies_and_an_empty_reply_is_a_400(report, login):
    client = login(report.seller)
    assert as_json(client, f"/problems/{report.pk}/reply/", {"body": "  "}).status_code == 400
    response = as_json(client, f"/problems/{report.pk}/reply/", {"body": "Sent on Monday, tracking 1Z."})
    assert response.status_code == 200 and response.json()["status"] == "answered"
    again = as_json(client, f"/problems/{report.pk}/reply/", {"body": "Sent on Monday, tracking 1Z."})
    assert again.status_code == 200
    assert report.conversation.messages.count() == 1  # the same text twice is one message


def test_the_seller_refunds_part_by_json_and_a_bad_amount_is_a_400(report, login):
    client = login(report.seller)
    url = f"/problems/{report.pk}/refund/"
    for amount in ("abc", -5, 0, True, 10**12):
        assert as_json(client, url, {"amount": amount}).status_code == 400, amount
    assert login(report.seller).post(url, {"amount": "1,00"}).status_code == 400
    first = as_json(client, url, {"amount": 1500}, HTTP_IDEMPOTENCY_KEY="k1")
    again = as_json(client, url, {"amount": 1500}, HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 201, first.content
    assert first.json()["refund"]["id"] == again.json()["refund"]["id"]
    assert report.order.refunds.count() == 1
    assert first.json()["status"] == "answered" and first.json()["refunded_cents"] == 1500


def test_the_sellers_form_refund_in_dollars_closes_the_report(report, login):
    response = login(report.seller).post(
        f"/problems/{report.pk}/refund/", {"amount": "50.00", "refund_token": "t"}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.outcome) == ("closed", "refunded")
    assert as_json(login(report.seller), f"/problems/{report.pk}/refund/", {}).status_code == 409


def test_escalating_too_early_then_twice(report, login):
    client = login(report.buyer)
    url = f"/problems/{report.pk}/escalate/"
    early = as_json(client, url)
    assert early.status_code == 409 and early.json()["error"]["code"] == "seller_still_has_time"
    as_json(login(report.seller), f"/problems/{report.pk}/reply/", {"body": "It is on its way."})
    assert as_json(client, url).status_code == 200
    twice = as_json(client, url)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "problem_already_escalated"


def test_the_buyer_closes_once(report, login):
    client = login(report.buyer)
    assert client.post(f"/problems/{report.pk}/close/").status_code == 302
    assert as_json(client, f"/problems/{report.pk}/close/").status_code == 409


def test_get_on_a_step_is_refused(report, login):
    assert login(report.buyer).get(f"/problems/{report.pk}/escalate/").status_code == 405


# -- Support in admin -----------------------------------------------------------------------------


def test_support_decides_in_admin_and_refunds(report, login, support):
    decide = f"/admin/problems/problemreport/{report.pk}/decide/"
    assert login(staff_member()).get(decide).status_code == 403
    client = login(support)
    assert client.get(decide).status_code == 200
    problem_deadlines_apply(now=report.seller_due_at)
    assert client.post(decide, {"decision": "refund", "amount": "1,5"}).status_code == 400
    response = client.post(
        decide, {"decision": "refund", "amount": "", "note": "Lost in the post.", "refund_token": "tok"}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.outcome) == ("closed", "support_refunded")
    assert (
        client.post(decide, {"decision": "decline", "note": "x", "refund_token": "tok2"}).status_code == 400
    )


def test_the_staff_todo_lists_reports_with_support(report, login, support):
    problem_deadlines_apply(now=report.seller_due_at)
    page = login(support).get("/admin/").content.decode()
    assert "Problem reports waiting for Support" in page
    assert f"/admin/problems/problemreport/{report.pk}/decide/" in page


# -- other pages ----------------------------------------------------------------------------------


def test_the_order_page_offers_a_report_then_links_to_it(late_sale, login, reported):
    page = login(late_sale.buyer).get(f"/orders/{late_sale.pk}/").content.decode()
    assert f"/orders/{late_sale.pk}/problem/" in page
    report = reported(late_sale, days=15)
    for user in (late_sale.buyer, late_sale.seller):
        assert f"/problems/{report.pk}/" in login(user).get(f"/orders/{late_sale.pk}/").content.decode()


def test_the_sellers_page_shows_problems_resolved(report, login, client):
    as_json(login(report.seller), f"/problems/{report.pk}/refund/", {})
    page = client.get(f"/sellers/{report.seller.username}/").content.decode()
    assert "Problems resolved: 1 of 1" in page
