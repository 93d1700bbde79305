"""pytest fixtures for the Stripe sandbox.

Register with ``pytest_plugins = ["stripe_sandbox.pytest_plugin"]`` (the project's root
conftest does). Fixtures:

``stripe_sandbox``
    A fresh in-process :class:`~stripe_sandbox.Sandbox` in *manual* delivery mode (webhooks
    go out when the test calls ``stripe_sandbox.flush_deliveries()``, in the test's thread),
    with stripe-python's globals pointed at it: ``stripe.default_http_client``,
    ``stripe.api_base``, ``stripe.upload_api_base`` (file uploads), ``stripe.api_key``
    (``SANDBOX_API_KEY``), and webhook retries after
    0.01 s. The globals are restored afterwards. ``stripe_sandbox.api_key`` holds the key.
``stripe_sandbox_live``
    The same in live mode (``Sandbox(livemode=True)``): it takes live keys only (a restricted
    one, ``SANDBOX_LIVE_API_KEY``, is installed) and every object and event has
    ``livemode: true``.
``stripe_sandbox_server``
    A sandbox served over real HTTP on 127.0.0.1 and a free port, with background delivery;
    yields a :class:`~stripe_sandbox.SandboxServer` (``.url``, ``.app``). It does not touch
    stripe's globals.

Every sandbox these fixtures make in one process starts from the same fresh state, so it has
the same platform account (``platform_state``): a deployment talks to one platform account for
its whole life, and what it keeps of it (dj-stripe's Account and APIKey rows, made on the first
event) can then outlive a test, as testing/stripe_platform.py has them do.
"""

from __future__ import annotations

import pytest
import stripe

from .app import Sandbox
from .client import SandboxHTTPClient
from .server import SandboxServer

# Shaped like a real test key (sk_test_ + 24 or more letters and digits): code under test
# may validate the shape, as dj-stripe does before it records an event.
SANDBOX_API_KEY = "sk_test_sandbox0000000000000000000000000"
SANDBOX_PUBLISHABLE_KEY = "pk_test_sandbox"
# A restricted live key (the kind Stripe recommends for servers), for the live-mode sandbox.
SANDBOX_LIVE_API_KEY = "rk_live_sandbox0000000000000000000000000"
SANDBOX_LIVE_PUBLISHABLE_KEY = "pk_live_sandbox"


@pytest.fixture
def stripe_sandbox():
    yield from _in_process(livemode=False, api_key=SANDBOX_API_KEY,
                           publishable_key=SANDBOX_PUBLISHABLE_KEY)


@pytest.fixture
def stripe_sandbox_live():
    yield from _in_process(livemode=True, api_key=SANDBOX_LIVE_API_KEY,
                           publishable_key=SANDBOX_LIVE_PUBLISHABLE_KEY)


_platform_states: dict[bool, dict] = {}


def platform_state(livemode: bool = False) -> dict:
    """A fresh sandbox's state (nothing but its platform account), made once a process for each
    mode; every sandbox of these fixtures is restored from it."""
    if livemode not in _platform_states:
        fresh = Sandbox(delivery_mode="manual", livemode=livemode)
        _platform_states[livemode] = fresh.state_copy()
        fresh.close()
    return _platform_states[livemode]


def _in_process(*, livemode: bool, api_key: str, publishable_key: str):
    sandbox = Sandbox(public_url="http://stripe-sandbox.test", delivery_mode="manual",
                      retry_delays=(0.01,), max_attempts=4, livemode=livemode)
    sandbox.state_restore(platform_state(livemode))
    sandbox.api_key = api_key
    sandbox.publishable_key = publishable_key
    saved = (stripe.api_key, stripe.api_base, stripe.connect_api_base, stripe.upload_api_base,
             stripe.default_http_client)
    stripe.api_key = api_key
    # Uploads go to their own host at Stripe (files.stripe.com); here it is the sandbox too.
    stripe.api_base = stripe.connect_api_base = stripe.upload_api_base = sandbox.public_url
    stripe.default_http_client = SandboxHTTPClient(sandbox)
    try:
        yield sandbox
    finally:
        (stripe.api_key, stripe.api_base, stripe.connect_api_base, stripe.upload_api_base,
         stripe.default_http_client) = saved
        sandbox.close()


@pytest.fixture
def stripe_sandbox_server():
    sandbox = Sandbox(retry_delays=(0.05, 0.1, 0.2), max_attempts=4)
    sandbox.state_restore(platform_state())
    server = SandboxServer(sandbox).start()
    server.api_key = SANDBOX_API_KEY
    server.publishable_key = SANDBOX_PUBLISHABLE_KEY
    try:
        yield server
    finally:
        server.stop()
