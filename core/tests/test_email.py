"""core.email: one task per message, rendered when queued, retried while the mail server fails."""

from unittest import mock

from django.core import mail

from core.email import email_send


def test_a_plain_notice_goes_to_every_address_given_with_its_subject_on_one_line():
    assert email_send(to=["a@example.com", "", "b@example.com"], subject="Account\nupdated", body="Hello")

    [message] = mail.outbox
    assert message.to == ["a@example.com", "b@example.com"]
    assert message.subject == "Account updated"
    assert message.body == "Hello" and message.alternatives == []


def test_nobody_to_send_to_queues_nothing():
    assert email_send(to=[], subject="s", body="b") is False
    assert email_send(to="", subject="s", body="b") is False
    assert mail.outbox == []


def test_a_template_is_rendered_as_text_and_html_with_the_headers_kept():
    rendered = {"emails/note.txt": "text {{ x }}", "emails/note.html": "<p>{{ x }}</p>"}

    def render(name, context):
        return rendered[name].replace("{{ x }}", context["x"]) + context["site_name"]

    with mock.patch("core.email.render_to_string", render):
        email_send(to="a@example.com", subject="s", template="note", context={"x": "1"},
                   headers={"List-Unsubscribe": "<https://x/u>"})

    [message] = mail.outbox
    assert message.body == "text 1Stub Collector"
    assert message.alternatives[0][0] == "<p>1</p>Stub Collector"
    assert message.extra_headers == {"List-Unsubscribe": "<https://x/u>"}


def test_a_message_the_mail_server_refused_once_is_sent_by_the_retry_once(mail_server_refusing_once):
    email_send(to="a@example.com", subject="s", body="b")

    assert len(mail_server_refusing_once) == 2 and len(mail.outbox) == 1


def test_a_mail_server_that_stays_down_is_not_raised_to_the_caller():
    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("smtp down")):
        assert email_send(to="a@example.com", subject="s", body="b")
    assert mail.outbox == []


def test_a_broker_that_cannot_be_reached_loses_the_email_with_a_log_line_not_a_500(caplog):
    """The caller's change is committed by then (a refund made at Stripe): raising would answer
    500 for something that was done, as the chaos soak found with Redis away."""
    from kombu.exceptions import OperationalError

    with mock.patch("celery.app.task.Task.apply_async",
                    side_effect=OperationalError("Error 111 connecting to 127.0.0.1:6379.")):
        assert email_send(to="a@example.com", subject="Refund", body="b") is False

    assert mail.outbox == []
    [record] = [r for r in caplog.records if getattr(r, "event", "") == "email.not_queued"]
    assert record.levelname == "ERROR" and "a@example.com" not in record.getMessage()
