"""The period a run covers when none is given."""

from datetime import UTC, datetime, timedelta

from django.utils import timezone

# Stripe keeps events for 30 days, so a missed one found in that time can still be applied.
DEFAULT_DAYS = 30


def default_since(*, now: datetime | None = None) -> datetime:
    """Midnight UTC 30 days ago: the same all day, so a run interrupted today is resumed by the
    next one of the same day (runs resume by their period)."""
    day = (now or timezone.now()).astimezone(UTC).date() - timedelta(days=DEFAULT_DAYS)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
