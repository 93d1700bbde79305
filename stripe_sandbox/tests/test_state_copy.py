"""`Sandbox.state_copy` / `state_restore`: a state built once and restored into other sandboxes,
each copy independent of the others and of the original (the root conftest's shared paid
order relies on it, testing/paid_snapshot.py)."""

import pytest
import stripe

from stripe_sandbox import Sandbox, SandboxHTTPClient

from .test_webhooks import Receiver


def _sandbox():
    return Sandbox(public_url="http://stripe-sandbox.test", delivery_mode="manual", retry_delays=(0.01,))


def _paid_intent(sandbox, account):
    with _pointed_at(sandbox):
        intent = stripe.PaymentIntent.create(amount=5000, currency="usd", payment_method="pm_card_visa",
                                             confirm=True, stripe_account=account)
    return intent.id


class _pointed_at:
    def __init__(self, sandbox):
        self.sandbox = sandbox

    def __enter__(self):
        self.saved = (stripe.api_key, stripe.api_base, stripe.default_http_client)
        stripe.api_key = "sk_test_sandbox0000000000000000000000000"
        stripe.api_base = self.sandbox.public_url
        stripe.default_http_client = SandboxHTTPClient(self.sandbox)

    def __exit__(self, *exc):
        stripe.api_key, stripe.api_base, stripe.default_http_client = self.saved


@pytest.fixture
def built():
    """A sandbox with an endpoint, an account and a paid PaymentIntent, its events delivered."""
    sandbox = _sandbox()
    first = Receiver("whsec_x")
    sandbox.create_webhook_endpoint("http://testserver/hook/", secret="whsec_x", connect=True,
                                    transport=first)
    account = sandbox.create_account(email="seller@example.com")["id"]
    intent = _paid_intent(sandbox, account)
    assert sandbox.flush_deliveries()
    yield sandbox, account, intent, first
    sandbox.close()


def test_a_restored_sandbox_has_the_same_objects_events_and_deliveries(built):
    original, account, intent, _ = built
    copy = _sandbox()
    copy.state_restore(original.state_copy(), Receiver("whsec_x"))

    assert copy.platform_account_id == original.platform_account_id
    assert copy.get(intent) == original.get(intent)
    assert copy.get(account) == original.get(account)
    assert copy.events() == original.events()
    assert copy.deliveries == original.deliveries
    copy.close()


def test_changes_to_a_copy_reach_neither_the_original_nor_another_copy(built):
    original, account, intent, first = built
    state = original.state_copy()
    one, two = _sandbox(), _sandbox()
    receiver = Receiver("whsec_x")
    one.state_restore(state, receiver)
    two.state_restore(state, Receiver("whsec_x"))
    delivered_before = len(first.calls)

    with _pointed_at(one):
        stripe.Refund.create(payment_intent=intent, stripe_account=account)
    one.advance_time(86400)
    assert one.flush_deliveries()

    assert [e["type"] for e in one.events(type="refund.created")] == ["refund.created"]
    assert original.events(type="refund.created") == two.events(type="refund.created") == []
    assert one.now() > two.now()
    assert len(one.deliveries) > len(two.deliveries) == len(original.deliveries)
    # The copy's endpoint delivers through the transport given to state_restore.
    assert any(e["type"] == "refund.created" for e in receiver.events)
    assert len(first.calls) == delivered_before
    one.close()
    two.close()


def test_a_sandbox_with_deliveries_pending_is_not_restored_over(built):
    original, account, intent, _ = built
    busy = _sandbox()
    busy.create_webhook_endpoint("http://testserver/hook/", secret="whsec_x", connect=True,
                                 transport=Receiver("whsec_x"))
    busy.create_account(email="other@example.com")
    assert busy.dispatcher.pending()

    with pytest.raises(RuntimeError):
        busy.state_restore(original.state_copy())
    busy.close()
