"""A problem report's photos sent while the broker refuses tasks (Redis away) are processed in the
request instead of being lost (problems.services): lost, the report's evidence would stay a
placeholder until beat's sweep queued it again minutes later. The broker refuses as in
security/test_redis_down.py."""

import datetime

import pytest
from django.utils import timezone

from marketplace.tests.images import image_upload, photo_tasks_run
from payments.models import Order
from problems.models import ProblemReport
from problems.services import PHOTO_TASK
from security.test_redis_down import no_500, take_redis_down

pytestmark = pytest.mark.django_db


def test_a_reports_photos_sent_with_the_broker_down_are_ready_when_the_request_answers(
        shipped, login, settings, monkeypatch, caplog):
    Order.objects.filter(pk=shipped.pk).update(paid_at=timezone.now() - datetime.timedelta(days=5))
    buyer = no_500(login(shipped.buyer))
    take_redis_down(settings, monkeypatch)

    with photo_tasks_run():
        response = buyer.post(f"/orders/{shipped.pk}/problem/", {
            "kind": "not_as_described", "description": "The corner is torn.",
            "photos": [image_upload(), image_upload("PNG")]})

    assert response.status_code == 302, response.content
    report = ProblemReport.objects.get()
    assert sorted(report.photos.values_list("state", flat=True)) == ["ready", "ready"]
    assert all(photo.image and photo.thumbnail for photo in report.photos.all())
    refused = [record for record in caplog.records if getattr(record, "event", "") == "task.not_queued"
               and record.task == PHOTO_TASK]
    assert len(refused) == 2 and not any(record.lost for record in refused)  # run here, not lost
