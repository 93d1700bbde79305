# Celery app, loaded with Django so @shared_task binds to it (see celery.py).
from stubcollector.celery import app as celery_app

__all__ = ["celery_app"]
