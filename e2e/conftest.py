"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server,
with the Stripe sandbox served over real HTTP on a free port (the browser must reach it).

Use the `stripe_live` fixture in a test marked `@pytest.mark.django_db(transaction=True)`: it
points the project (settings and stripe-python) at the sandbox server, registers the two
webhook endpoints on it for the live server, and restores everything afterwards.
"""

import os
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from marketplace.pricing import EXPRESS_DIRECT_CHARGES_CONTROLLER

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# there are safe (one thread, the live server has its own connection handling).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright has no setting for a browser path: use Debian's chromium package."""
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings, tmp_path_factory):
    """A file SQLite test database instead of the in-memory one.

    With an in-memory database the live server shares the test's single connection between
    its threads, and a webhook arriving while the browser's request runs fails with "database
    table is locked". A file gives each thread its own connection (SQLite waits on locks).
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("e2e-db") / "test.sqlite3")
        # A transaction that reads then writes (lock the user row, compare, save) must take the
        # write lock up front: otherwise SQLite answers "database is locked" at once, without
        # waiting, when a webhook and a page write at the same moment.
        database.setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"


def _answer_by_design(*, resource: str, status_text: str, document: str) -> bool:
    """Chromium logs every 4xx as a console error. Two are answers by design, not faults: the
    page itself answering 4xx (a form with errors is a 400, a rate limit a 429; the test checks
    the page), and Stripe's 402 for a declined card on a PaymentIntent confirmation
    (https://docs.stripe.com/api/errors: 402 "The parameters were valid but the request
    failed"). A 4xx of anything else the page loads (a script, an image, a fetch) is a fault."""
    import re

    status = re.search(r"status of (\d{3})", status_text)
    if not status or not status.group(1).startswith("4"):
        return False
    if resource.split("#")[0] == document.split("#")[0]:
        return True
    return status.group(1) == "402" and "/v1/payment_intents/" in resource and resource.endswith("/confirm")


@pytest.fixture
def allowed_console_errors() -> list[str]:
    """Regexes of console errors a test expects (e.g. the 402 of a declined card); append to it."""
    return []


def watch_console(page, problems: list[str]) -> None:
    """Record on `problems` every console error, uncaught exception and Content Security Policy
    violation of the pages `page` visits (Chromium reports a violation as a console error and as
    a `securitypolicyviolation` event, which the init script forwards)."""

    def on_console(message):
        if message.type != "error":
            return
        resource = (message.location or {}).get("url", "")
        if message.text.startswith("Failed to load resource") and _answer_by_design(
            resource=resource, status_text=message.text, document=page.url
        ):
            return
        problems.append(f"console error on {page.url}: {message.text} ({resource})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"uncaught exception on {page.url}: {error}"))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => console.error("
        "'CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline code')));"
    )


@pytest.fixture
def console_watcher():
    """`watch_console` for tests that open their own browser contexts and pages."""
    return watch_console


def unexpected_problems(problems: list[str], allowed: list[str]) -> list[str]:
    import re

    return [p for p in problems if not any(re.search(pattern, p) for pattern in allowed)]


@contextmanager
def page_checked(page, allowed: list[str]):
    """Fail fast instead of waiting 30 s when a selector is wrong; and, when the block ends, fail
    on any console error, uncaught exception or CSP violation on any page `page` visited. Every
    page a test drives goes through here, its own browser contexts' pages included."""
    page.set_default_timeout(10_000)
    page.set_default_navigation_timeout(15_000)
    problems: list[str] = []
    watch_console(page, problems)
    yield page
    unexpected = unexpected_problems(problems, allowed)
    assert not unexpected, "the browser reported problems:\n" + "\n".join(unexpected)


@pytest.fixture
def page_checker():
    """`page_checked` for tests that open their own browser contexts and pages."""
    return page_checked


@pytest.fixture
def page(page, allowed_console_errors):
    """pytest-playwright's page, checked (page_checked)."""
    with page_checked(page, allowed_console_errors) as checked:
        yield checked


@dataclass
class StripeLive:
    """What a browser test needs to know about the running sandbox."""

    url: str
    sandbox: object  # stripe_sandbox.Sandbox: advance_time, set_requirements, deliveries, ...
    site_url: str

    def seller_account(self, **params) -> dict:
        """An onboarded Express account made as production makes them (connect.services'
        onboarding: controller properties, the platform pays Stripe's fees), not a legacy
        `type=express` one, on which the seller would pay them (docs/going-live.md)."""
        return self.sandbox.create_account(controller=EXPRESS_DIRECT_CHARGES_CONTROLLER, **params)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued webhook has been delivered to the live server."""
        return self.sandbox.flush_deliveries(timeout=timeout)


@pytest.fixture
def stripe_live(stripe_sandbox_server, live_server, settings):
    """The project talking to a real-HTTP sandbox, and the sandbox's webhooks reaching the live server."""
    import stripe

    from payments import stripe_api
    from payments.services.webhook_setup import webhook_event_types
    from payments.services.webhooks import CONNECT, PLATFORM

    saved = {
        name: getattr(stripe, name)
        for name in ("api_key", "api_base", "connect_api_base", "upload_api_base", "default_http_client",
                     "max_network_retries")
    }
    settings.STRIPE_API_HOST = settings.STRIPE_UPLOAD_API_HOST = stripe_sandbox_server.url
    settings.STRIPE_JS_URL = f"{stripe_sandbox_server.url}/v3/"
    settings.STRIPE_SECRET_KEY = stripe_sandbox_server.api_key
    settings.STRIPE_PUBLISHABLE_KEY = stripe_sandbox_server.publishable_key
    settings.SITE_URL = live_server.url
    stripe_api.configure()

    sandbox = stripe_sandbox_server.app
    # The event types production enables (manage.py stripe_setup_webhooks), not every type.
    sandbox.create_webhook_endpoint(
        f"{live_server.url}/payments/webhook/", secret=settings.STRIPE_WEBHOOK_SECRET,
        enabled_events=webhook_event_types(PLATFORM),
    )
    sandbox.create_webhook_endpoint(
        f"{live_server.url}/payments/webhook/connect/",
        secret=settings.STRIPE_CONNECT_WEBHOOK_SECRET,
        connect=True, enabled_events=webhook_event_types(CONNECT),
    )
    try:
        yield StripeLive(url=stripe_sandbox_server.url, sandbox=sandbox, site_url=live_server.url)
    finally:
        # Deliveries still in flight would hit a live server whose database is being flushed.
        sandbox.flush_deliveries(timeout=5.0)
        for name, value in saved.items():
            setattr(stripe, name, value)
