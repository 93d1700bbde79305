"""Offers whose answer is overdue, accepted offers whose hold ended, and offers on stubs that left
the sale (offers.services.offers_sweep), every minute by beat (stubcollector/celery.py)."""

from celery import shared_task

from offers.services import offers_sweep


@shared_task(name="offers.expire_offers")
def expire_offers() -> dict:
    return offers_sweep()
