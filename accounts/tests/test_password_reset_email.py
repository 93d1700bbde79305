"""The password-reset email goes through core.email like every other notice: one queued task
(core.email_send) per request, retried while the mail server fails; an unknown address queues
nothing and gets the same answer and the same page."""

import contextlib
from unittest import mock

import pytest
from celery.signals import task_prerun
from django.core import mail

from accounts.tests.factories import UserFactory
from core.email import EMAIL_TASK

pytestmark = pytest.mark.django_db

RESET = "/accounts/password/reset/"


@contextlib.contextmanager
def tasks_run():
    """The names of the Celery tasks that run inside the block (eager in the tests)."""
    names = []

    def record(sender=None, **kwargs):
        names.append(sender.name)

    task_prerun.connect(record, weak=False)
    try:
        yield names
    finally:
        task_prerun.disconnect(record)


def test_a_reset_request_queues_exactly_one_email_through_the_email_service(client):
    UserFactory(email="robin@example.com")

    with tasks_run() as names:
        response = client.post(RESET, {"email": "robin@example.com"})

    assert response.status_code == 302
    assert names == [EMAIL_TASK]
    [message] = mail.outbox
    assert message.to == ["robin@example.com"]
    assert message.subject == "Reset your Stub Collector password"
    assert "/accounts/password/reset/" in message.body
    assert "/accounts/password/reset/" in message.alternatives[0][0]


def test_an_unknown_address_queues_nothing_and_gets_the_same_answer_and_page(client):
    UserFactory(email="known@example.com")

    with tasks_run() as names:
        unknown = client.post(RESET, {"email": "nobody@example.com"}, follow=True)
    assert names == [] and mail.outbox == []
    known = client.post(RESET, {"email": "known@example.com"}, follow=True)

    assert unknown.redirect_chain == known.redirect_chain
    assert unknown.status_code == known.status_code == 200
    assert unknown.text == known.text
    assert len(mail.outbox) == 1


def test_a_reset_email_the_mail_server_refused_once_is_sent_by_the_retry(client):
    user = UserFactory(email="retry@example.com")
    real_send = mail.EmailMultiAlternatives.send
    calls = []

    def flaky(self, *args, **kwargs):
        calls.append(self.to)
        if len(calls) == 1:
            raise OSError("smtp down")
        return real_send(self, *args, **kwargs)

    with mock.patch("django.core.mail.EmailMultiAlternatives.send", flaky):
        response = client.post(RESET, {"email": user.email})

    assert response.status_code == 302
    assert calls == [[user.email], [user.email]]
    assert [m.to for m in mail.outbox] == [[user.email]]
