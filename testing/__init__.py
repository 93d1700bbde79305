"""Test infrastructure shared by every app's tests (threads started at once, a real Celery worker)."""
