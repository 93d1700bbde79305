"""DomainErrorMiddleware: JSON or the error page by what the client asks for, and what the page offers."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory

from core.errors import NotFound, PaymentProviderError
from core.middleware import error_page_context, wants_json

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ONBOARD = "/payments/connect/onboard/"

factory = RequestFactory()


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        # The client asks for JSON or sends JSON: JSON anywhere.
        ("/listings/1/", {"Accept": "application/json"}, True),
        ("/orders/1/", {"Accept": "text/html, application/json"}, True),
        # JSON-only paths answer JSON even to a browser.
        ("/api/listings/", {"Accept": BROWSER_ACCEPT}, True),
        ("/marketplace/my-orders/", {}, True),
        # /payments/: JSON unless the client asked for HTML (browsers do, fetch() without headers does not).
        (ONBOARD, {}, True),
        (ONBOARD, {"Accept": "*/*"}, True),
        (ONBOARD, {"Accept": BROWSER_ACCEPT}, False),
        ("/payments/orders/7/ship/", {"Accept": BROWSER_ACCEPT}, False),
        # Pages answer HTML to everyone who did not ask for JSON.
        ("/orders/1/", {}, False),
        ("/listings/1/", {"Accept": BROWSER_ACCEPT}, False),
    ],
)
def test_json_or_html_follows_what_the_client_asks_for_and_the_path_only_without_a_preference(
    path, headers, expected
):
    assert wants_json(factory.get(path, headers=headers)) is expected


def test_a_json_body_means_a_json_answer_even_from_a_page_path():
    request = factory.post("/listings/1/withdraw/", data="{}", content_type="application/json")

    assert wants_json(request) is True


def test_a_failed_get_offers_a_link_to_try_the_same_url_again():
    request = factory.get("/payments/onboard/return/?x=1")

    context = error_page_context(request, PaymentProviderError())

    assert context["retry_url"] == "/payments/onboard/return/?x=1"
    assert context["retry_post_url"] is None


def test_a_failed_empty_form_post_offers_to_post_again_to_the_same_path():
    request = factory.post(ONBOARD)

    context = error_page_context(request, PaymentProviderError())

    assert context["retry_post_url"] == ONBOARD
    assert context["retry_url"] is None


def test_a_failed_form_post_with_fields_offers_no_retry_that_would_lose_them():
    request = factory.post("/payments/orders/7/refund/", {"amount": "5.00"})

    context = error_page_context(request, PaymentProviderError())

    assert context["retry_post_url"] is None and context["retry_url"] is None


def test_a_client_error_offers_no_retry():
    context = error_page_context(factory.get("/listings/9/"), NotFound())

    assert context["retry_post_url"] is None and context["retry_url"] is None


@pytest.mark.parametrize(
    ("path", "back_url"),
    [
        ("/payments/connect/dashboard/", "/dashboard/"),
        ("/payments/onboard/refresh/", "/dashboard/"),
        ("/payments/orders/7/ship/", "/"),
        ("/listings/9/", "/"),
    ],
)
def test_the_way_back_is_the_dashboard_for_onboarding_pages_and_home_otherwise(path, back_url):
    context = error_page_context(factory.get(path), NotFound())

    assert context["back_url"] == back_url


@pytest.mark.django_db
def test_the_error_page_renders_the_retry_form_with_a_csrf_token():
    request = factory.post(ONBOARD)
    request.user = AnonymousUser()

    page = render_to_string("error.html", error_page_context(request, PaymentProviderError()), request)

    assert f'<form method="post" action="{ONBOARD}">' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert "Back to your dashboard" in page
