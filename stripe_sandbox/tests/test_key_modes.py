"""Keys and modes as Stripe has them (https://docs.stripe.com/keys,
https://docs.stripe.com/keys/restricted-api-keys): secret (sk_) and restricted (rk_) keys, each of
one mode; a test-mode sandbox takes test keys, a live-mode one live keys, and every object says
which mode it belongs to."""

import pytest
import stripe


def test_a_restricted_test_key_works_like_a_secret_one(stripe_sandbox):
    account = stripe.Account.create(type="express", country="US", api_key="rk_test_" + "r" * 24)

    assert account.id.startswith("acct_")
    assert stripe.Balance.retrieve(api_key="rk_test_" + "r" * 24).livemode is False


def test_a_live_sandbox_takes_live_keys_and_its_events_are_live(stripe_sandbox_live):
    account = stripe.Account.create(type="express", country="US")
    stripe_sandbox_live.complete_onboarding(account.id)

    assert stripe.Balance.retrieve(api_key="sk_live_" + "s" * 24).livemode is True
    events = stripe.Event.list(stripe_account=account.id).data
    assert events and all(event.livemode is True for event in events)


@pytest.mark.parametrize("key", ["sk_test_" + "t" * 24, "rk_test_" + "t" * 24])
def test_a_live_sandbox_refuses_test_keys(stripe_sandbox_live, key):
    with pytest.raises(stripe.AuthenticationError):
        stripe.Account.create(type="express", country="US", api_key=key)


def test_a_test_sandbox_refuses_restricted_live_keys(stripe_sandbox):
    with pytest.raises(stripe.AuthenticationError):
        stripe.Account.create(type="express", country="US", api_key="rk_live_" + "l" * 24)
