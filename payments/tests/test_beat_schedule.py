import pytest

pytestmark = pytest.mark.django_db


def test_the_beat_schedule_names_tasks_that_exist():
    from celery import current_app as app  # the project's app, without importing the project

    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_the_scheduled_balance_task_runs():
    from celery import current_app as app

    app.loader.import_default_modules()
    # By the name beat's schedule uses: the task is Connect's (connect.tasks), its name unchanged.
    assert app.tasks["payments.tasks.refresh_seller_balances"].apply().get()["read"] == 0
