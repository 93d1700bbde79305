import pytest

pytestmark = pytest.mark.django_db


def test_the_beat_schedule_names_tasks_that_exist():
    from stubcollector.celery import app

    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_the_scheduled_balance_and_digest_tasks_run():
    from payments.tasks import refresh_seller_balances, send_saved_search_digests

    assert refresh_seller_balances.apply().get()["read"] == 0
    assert send_saved_search_digests.apply().get()["emails"] == 0
