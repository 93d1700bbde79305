"""Demo sellers onboarded through the offline Stripe sandbox, the way a person would (seed_demo).

Demo-only: it reads the sandbox's onboarding page (an HTML form) and submits it with its
prefilled test values. Real Stripe's hosted onboarding is never scraped; production code only
creates the account and the Account Link (connect.services).
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode, urljoin
from urllib.request import HTTPRedirectHandler, Request, build_opener

from django.conf import settings

from connect.services import (
    seller_account_link,
    seller_become,
    seller_ensure_account,
    seller_refresh_from_stripe,
)
from core.errors import DomainError, PaymentProviderError
from payments import stripe_api


class _FormReader(HTMLParser):
    """The first <form> of a page: its action, method and the values a person would submit."""

    def __init__(self):
        super().__init__()
        self.action: str | None = None
        self.method = "get"
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._done = False
        self._select: str | None = None
        self._select_value: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: (value or "") for name, value in attrs}
        if self._done:
            return
        if tag == "form" and self.action is None:
            self.action, self.method, self._in_form = (
                attrs.get("action", ""),
                attrs.get("method", "get"),
                True,
            )
        elif not self._in_form:
            return
        elif tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind in ("submit", "button", "image", "file"):
                return
            self.fields.append((attrs["name"], attrs.get("value", "")))
        elif tag == "select" and attrs.get("name"):
            self._select, self._select_value = attrs["name"], None
        elif tag == "option" and self._select:
            if self._select_value is None or "selected" in attrs:
                self._select_value = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self.fields.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the form's answer redirects to our return page: nobody is logged in there


def _open_sandbox_page(method: str, url: str, data: list[tuple[str, str]] | None = None) -> tuple[int, str]:
    """(status, html) of a sandbox page, in-process when the SDK is wired to one (tests)."""
    sandbox = stripe_api.sandbox_in_process()
    if sandbox is not None:
        response = sandbox.request(method, url, urlencode(data) if data is not None else None)
        return response.status, response.text
    body = urlencode(data).encode() if data is not None else None
    request = Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    opener = build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=settings.STRIPE_TIMEOUT_SECONDS) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except HTTPError as error:  # a 3xx left unfollowed arrives here
        return error.code, ""


def _submit_onboarding_form(url: str) -> None:
    """Fill in the sandbox's onboarding page with its prefilled test values and submit it."""
    status, page = _open_sandbox_page("GET", url)
    form = _FormReader()
    form.feed(page)
    if status != 200 or form.action is None:
        raise RuntimeError(f"the onboarding page answered {status} without a form")
    status, _ = _open_sandbox_page((form.method or "post").upper(), urljoin(url, form.action), form.fields)
    if status >= 400:
        raise RuntimeError(f"submitting the onboarding form answered {status}")


def connect_onboard_demo_sellers(*, sellers, halfway_seller=None, log: Callable[[str], Any] = print) -> None:
    """Onboard demo sellers through the Stripe sandbox the way a person would.

    Each seller gets an Express account and an Account Link; the sandbox's onboarding page is
    then submitted over HTTP like a browser would, and the account is re-read and synced. The
    halfway seller stops after the link (requirements still due). If the sandbox cannot be
    reached, a clear message is logged and the sellers stay un-onboarded (no crash).
    """
    everyone = list(sellers)
    if halfway_seller is not None and halfway_seller not in everyone:
        everyone.append(halfway_seller)
    for seller in everyone:
        try:
            seller_become(user=seller)
            seller_ensure_account(user=seller)
            if seller.can_accept_payments:
                log(f"{seller.username}: already onboarded ({seller.stripe_account_id})")
                continue
            link = seller_account_link(user=seller)
            if halfway_seller is not None and seller.pk == halfway_seller.pk:
                seller_refresh_from_stripe(user=seller)
                log(
                    f"{seller.username}: Stripe account {seller.stripe_account_id} created, "
                    "onboarding left halfway"
                )
                continue
            _submit_onboarding_form(link)
            seller_refresh_from_stripe(user=seller)
            log(f"{seller.username}: onboarded ({seller.stripe_account_status}, {seller.stripe_account_id})")
        except (DomainError, OSError, RuntimeError) as exc:
            log(
                f"{seller.username}: not onboarded - the Stripe sandbox at {settings.STRIPE_API_HOST} "
                f"did not answer ({exc}). Start it (make run / python -m stripe_sandbox) "
                "and run seed_demo again."
            )
            if isinstance(exc, PaymentProviderError | OSError):
                break
