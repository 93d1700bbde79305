"""Delivery chaos: deliveries sent twice, out of order and late, as Stripe's webhook docs say
they may be (https://docs.stripe.com/webhooks, "Handle duplicate events", "Event ordering")."""

import json

import pytest

from .conftest import pay
from .test_webhooks import Receiver


@pytest.fixture
def receiver(stripe_sandbox):
    receiver = Receiver("whsec_connect")
    stripe_sandbox.create_webhook_endpoint("http://testserver/payments/webhook/connect/",
                                           secret="whsec_connect", connect=True,
                                           transport=receiver)
    return receiver


def test_no_chaos_by_default(stripe_sandbox, seller, receiver):
    pay(seller["id"])
    assert stripe_sandbox.flush_deliveries()
    assert len(receiver.calls) == 3
    assert all(d["chaos"] == [] and d["duplicate_of"] is None for d in stripe_sandbox.deliveries)
    assert stripe_sandbox.delivery_chaos["counts"] == {"duplicated": 0, "reordered": 0, "delayed": 0}


def test_duplicated_deliveries_bring_the_same_event_twice(stripe_sandbox, seller, receiver):
    stripe_sandbox.set_delivery_chaos(duplicate=1.0)
    pay(seller["id"])
    assert stripe_sandbox.flush_deliveries()
    ids = [event["id"] for event in receiver.events]
    assert len(ids) == 6 and len(set(ids)) == 3
    assert all(ids.count(event_id) == 2 for event_id in ids)
    copies = [d for d in stripe_sandbox.deliveries if d["duplicate_of"]]
    originals = {d["id"]: d for d in stripe_sandbox.deliveries if not d["duplicate_of"]}
    assert len(copies) == 3
    for copy in copies:
        assert copy["event"] == originals[copy["duplicate_of"]]["event"]
        assert copy["chaos"] == ["duplicated"] and copy["status"] == "succeeded"
    assert stripe_sandbox.delivery_chaos["counts"]["duplicated"] == 3


def test_reordered_deliveries_arrive_out_of_the_order_they_were_made(stripe_sandbox, seller, receiver):
    stripe_sandbox.set_delivery_chaos(reorder=1.0, reorder_seconds=0.3, seed=7)
    pay(seller["id"])
    pay(seller["id"])
    made = [d["event"] for d in stripe_sandbox.deliveries]
    assert stripe_sandbox.flush_deliveries()
    arrived = [event["id"] for event in receiver.events]
    assert sorted(arrived) == sorted(made)  # nothing lost, nothing twice
    assert arrived != made
    assert stripe_sandbox.delivery_chaos["counts"]["reordered"] == 6


def test_delayed_deliveries_are_held_back_then_sent(stripe_sandbox, seller, receiver):
    stripe_sandbox.set_delivery_chaos(delay=1.0, delay_seconds=0.4)
    pay(seller["id"])
    assert not stripe_sandbox.flush_deliveries(timeout=0.05)  # still held back
    assert receiver.calls == []
    assert stripe_sandbox.flush_deliveries(timeout=5)
    assert len(receiver.events) == 3
    assert all(d["chaos"] == ["delayed"] for d in stripe_sandbox.deliveries)


def test_shares_draw_a_part_of_the_deliveries_repeatably(stripe_sandbox, seller, receiver):
    def run():
        stripe_sandbox.set_delivery_chaos(duplicate=0.3, reorder=0.3, delay=0.3,
                                          reorder_seconds=0, delay_seconds=0, seed=11)
        for _ in range(10):
            pay(seller["id"])
        assert stripe_sandbox.flush_deliveries()
        return dict(stripe_sandbox.delivery_chaos["counts"])

    first = run()
    assert all(0 < count < 30 for count in first.values()), first
    assert run() == first  # the seed makes the same draws


def test_redeliveries_are_not_subject_to_chaos(stripe_sandbox, seller, receiver):
    pay(seller["id"])
    assert stripe_sandbox.flush_deliveries()
    stripe_sandbox.set_delivery_chaos(duplicate=1.0, delay=1.0, delay_seconds=60)
    again = stripe_sandbox.redeliver(stripe_sandbox.deliveries[0]["id"])
    assert again["chaos"] == []
    assert stripe_sandbox.flush_deliveries(timeout=2)
    assert len(receiver.calls) == 4


def test_chaos_over_http_validates_and_reports(stripe_sandbox):
    response = stripe_sandbox.request("POST", "/_sandbox/deliveries/chaos",
                                      {"duplicate": "0.1", "reorder": "0.2", "delay": "0.05",
                                       "delay_seconds": "30"})
    assert response.status == 200
    setting = json.loads(response.body)
    assert (setting["duplicate"], setting["reorder"], setting["delay"]) == (0.1, 0.2, 0.05)
    assert setting["delay_seconds"] == 30 and setting["reorder_seconds"] == 2
    shown = json.loads(stripe_sandbox.request("GET", "/_sandbox/deliveries/chaos").body)
    assert shown == setting
    refused = stripe_sandbox.request("POST", "/_sandbox/deliveries/chaos", {"duplicate": "1.5"})
    assert refused.status == 400
    assert "share from 0 to 1" in json.loads(refused.body)["error"]["message"]
    assert stripe_sandbox.request("POST", "/_sandbox/deliveries/chaos",
                                  {"delay": "lots"}).status == 400
    assert json.loads(stripe_sandbox.request("GET", "/_sandbox/deliveries/chaos").body) == setting
