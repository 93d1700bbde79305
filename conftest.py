"""Project-wide pytest set-up: fast hashing, isolated media, the Stripe sandbox fixtures, and the
fixtures the tests of several apps share (webhooks into the real views, a paid order, a real
Celery worker from testing/celery_support.py). A fixture only one app's tests use lives in that
app's tests/conftest.py."""

import tempfile
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.test import Client

from payments.tests.webhook_support import (
    deliver,
    endpoints_register,
    pay,
    sandbox_order,
    sandbox_order_bought,
)
from testing import paid_snapshot

pytest_plugins = ["stripe_sandbox.pytest_plugin", "testing.celery_support", "testing.paid_snapshot_plugin",
                  "testing.stripe_platform"]


def pytest_runtest_setup(item):
    """`@pytest.mark.postgres`: row locks, full-text and trigram search exist only there."""
    if item.get_closest_marker("postgres"):
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...)")


@pytest.fixture(scope="session", autouse=True)
def _whitenoise_scans_static_root_once():
    """Every test Client builds its own middleware chain, and WhiteNoise's __init__ walks
    STATIC_ROOT and builds the headers of every file in it: with var/staticfiles from `make run`
    (~660 files) that cost ~80 ms per Client, more than most tests themselves. The
    result for the project's own STATIC_ROOT is kept for the session (the files do not change
    while the tests run); any other root (a test's tmp_path, collectstatic into it) is scanned
    as before."""
    from django.conf import settings
    from whitenoise.base import WhiteNoise

    project_root = str(settings.STATIC_ROOT)
    original = WhiteNoise.update_files_dictionary
    scanned: dict = {}

    def update_files_dictionary(self, root, prefix):
        if root.rstrip("/") != project_root.rstrip("/"):
            return original(self, root, prefix)
        immutable_test = getattr(self.immutable_file_test, "__func__", self.immutable_file_test)
        key = (root, prefix, type(self), self.max_age, self.allow_all_origins, self.charset,
               self.index_file, self.add_headers_function, immutable_test,
               repr(getattr(settings, "WHITENOISE_MIMETYPES", None)),
               settings.STORAGES["staticfiles"]["BACKEND"])
        if key not in scanned:
            own, self.files = self.files, {}
            try:
                original(self, root, prefix)
                scanned[key] = self.files
            finally:
                self.files = own
        self.files.update(scanned[key])

    WhiteNoise.update_files_dictionary = update_files_dictionary
    yield
    WhiteNoise.update_files_dictionary = original


@pytest.fixture(scope="session", autouse=True)
def _stripe_retries_without_pauses():
    """stripe-python pauses 0.5-2 s before retrying a call that failed to connect. A test without
    the sandbox fixture whose page still asks Stripe something (the seller dashboard's balance)
    reaches nobody on the sandbox's port and sat ~2 s in those pauses. The retries still run,
    without the pauses, as they do through the sandbox's own client (stripe_sandbox/client.py)."""
    import stripe

    saved = stripe.HTTPClient.INITIAL_DELAY
    stripe.HTTPClient.INITIAL_DELAY = 0
    yield
    stripe.HTTPClient.INITIAL_DELAY = saved


@pytest.fixture(scope="session", autouse=True)
def _log_records_kept_by_pytest_only():
    """pytest keeps every log record of a test with its own handler (shown when the test fails,
    and what caplog reads). settings.LOGGING's console handler wrote each one again as a JSON
    line into the test's captured stderr, which then went to the xdist controller in every
    report: ~100,000 records a make test at ~17 µs each, and twice the report text. The
    console's formatter and filter have their own tests (stubcollector/tests/test_logs.py)."""
    import logging

    root = logging.getLogger()
    console = [handler for handler in root.handlers if handler.get_name() == "console"]
    for handler in console:
        root.removeHandler(handler)
    yield
    for handler in console:
        root.addHandler(handler)


@pytest.fixture(scope="session")
def _media_roots(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session", autouse=True)
def _session_settings():
    """What every test runs under, set once: each setting a test changes goes through Django's
    setting_changed (~25 receivers) on the way in and again on the way out, ~0.3 ms a test for
    these three when every test set them itself. A test's own `settings` changes are undone to
    these."""
    from django.conf import settings
    from django.test import override_settings

    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ):
        yield


@pytest.fixture(autouse=True)
def _test_settings(settings, _media_roots):
    # Each test its own empty media folder. Not tmp_path: pytest numbers those by scanning every
    # earlier test's folder, a cost that grows with each test.
    settings.MEDIA_ROOT = Path(tempfile.mkdtemp(dir=_media_roots)) / "media"


@pytest.fixture(autouse=True)
def _clear_cache():
    """The rate limiter counts in the cache: every test starts with a clean slate."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _one_rate_limit_window(monkeypatch):
    """Pin django-ratelimit's clock for the test: its windows are fixed slices of wall time, so a
    test firing N requests could otherwise straddle a boundary, restart the count and never see
    its 429 (seen in CI on a loaded machine)."""
    import time
    from types import SimpleNamespace

    import django_ratelimit.core

    frozen = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: frozen))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Tests build their tables from the models (--no-migrations); on PostgreSQL the listing's
    search document, its triggers and GIN index are not a model's: add them as migration 0008
    does, or every text search fails; and pg_trgm's indexes as migration 0011 does."""
    import importlib

    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            migration = importlib.import_module("marketplace.migrations.0008_listing_search_document")
            trigrams = importlib.import_module("marketplace.migrations.0011_search_trigrams")
            with connection.schema_editor() as editor:
                migration.create_search_document(None, editor)
                trigrams.create_trigram_indexes(None, editor)


@pytest.fixture
def webhook_sandbox(stripe_sandbox, client):
    """The sandbox delivering signed Stripe events into our webhook views through the test
    client (payments/tests/webhook_support.py), for the tests of every app that takes them."""
    return endpoints_register(stripe_sandbox, client)


@pytest.fixture
def webhooks(webhook_sandbox, django_capture_on_commit_callbacks):
    """`webhooks()` sends every queued event into the real views, as if each request's
    transaction committed, until the handlers queue nothing new (setting a payout schedule sends
    another account.updated), and returns the deliveries that did not get a 2xx."""

    def flush():
        for _ in range(5):
            queued = len(webhook_sandbox.deliveries)
            with django_capture_on_commit_callbacks(execute=True):
                assert webhook_sandbox.flush_deliveries()
            if len(webhook_sandbox.deliveries) == queued:
                break
        return [d for d in webhook_sandbox.deliveries if d["status"] != "succeeded"]

    return flush


@pytest.fixture
def deliver_all(webhook_sandbox, django_capture_on_commit_callbacks):
    """`deliver_all()` delivers every queued webhook, running what each commit queued (the
    emails); a failed delivery fails the test."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            deliver(webhook_sandbox)

    return run


@pytest.fixture
def order_paid_with(webhook_sandbox):
    """`order_paid_with(card, **fields)`: a sandbox purchase from a seller at seller@example.com,
    the order given `fields`, paid with Stripe's test `card` (one that disputes, one that warns of
    fraud, ...), and every webhook delivered with what it queued (the emails)."""
    return lambda card, **fields: sandbox_order_bought(webhook_sandbox, card, **fields)


def _paid_order_build(sandbox) -> int:
    order = sandbox_order(sandbox)
    pay(order)
    deliver(sandbox)
    return order.pk


@pytest.fixture
@paid_snapshot.shared(_paid_order_build)
def paid_order(webhook_sandbox, client, request):
    """A real sandbox purchase: the PaymentIntent paid with a test card and the order marked
    paid by the signed webhook. Made once and shared by the tests that take it, each with its
    own copy of the sandbox's state and its own savepoint (testing/paid_snapshot.py)."""
    return paid_snapshot.take(request, webhook_sandbox, client, _paid_order_build)


@pytest.fixture
def mail_server_refusing_once():
    """The mail server (the edge we do not own) refuses the first message and takes the rest;
    the list it yields holds the recipients of every attempt, refused or sent."""
    real_send = mail.EmailMultiAlternatives.send
    attempts = []

    def send(self, *args, **kwargs):
        attempts.append(self.to)
        if len(attempts) == 1:
            raise OSError("smtp down")
        return real_send(self, *args, **kwargs)

    with mock.patch("django.core.mail.EmailMultiAlternatives.send", send):
        yield attempts


@pytest.fixture
def content_type_cache_cleared():
    """For tests that relabel content types (an app move's data migration): the rows are rolled
    back after the test, so ContentType's cache must not outlive it."""
    yield
    ContentType.objects.clear_cache()


@pytest.fixture
def login():
    """`login(user)`: a test client logged in as `user`."""

    def client_for(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return client_for


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs the on_commit callbacks (emails, header counts) as the test's
    transaction would have committed them."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
