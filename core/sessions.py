"""Sessions read from the cache, kept in the database, and never failing because the cache is away.

Django's `cached_db` store spares a logged-in request its session query, but raises when the
cache cannot be reached (it files what it read from the database without catching, and
`exists()` and `delete()` ask the cache first): a Redis outage would be a 500 for every
logged-in visitor, where the catalogue's page cache promises only slower pages
(marketplace/page_cache.py). This store is `cached_db` with the cache's outages caught:

- reading: a cache that cannot be reached means the database row, as the plain `db` store reads it;
- saving and ending a session (log-out) always reach the database first; a copy the cache could
  not be told about is remembered by the process and deleted from the cache as soon as the cache
  answers it again, before anything is read from it;
- the cache keeps a copy SESSION_CACHE_SECONDS at most (5 minutes unless set), so a session ended
  while the cache was unreachable, by another process that cannot clean up after it, is still
  readable from that cache's copy (by whoever holds the old cookie) for that long after it comes
  back, and no longer. A cache that comes back empty (Redis keeps no data here) holds none.
"""

import logging

from django.conf import settings
from django.contrib.sessions.backends import cached_db

from core.cache_health import CACHE_DOWN, cache_down

# Cache keys of sessions saved or ended while the cache could not be told: deleted from it first
# thing once it answers again.
_stale: set[str] = set()
logger = logging.getLogger(__name__)


def _cache_down(error: Exception) -> None:
    cache_down(error, consequence="sessions are read from the database", logger=logger)


class SessionStore(cached_db.SessionStore):
    def _cache_seconds(self, expiry_age: int) -> int:
        return max(0, min(expiry_age, getattr(settings, "SESSION_CACHE_SECONDS", 300)))

    def _forget_stale(self) -> None:
        """Delete the copies this process could not update (raises when the cache is still down)."""
        if _stale:
            keys = list(_stale)
            self._cache.delete_many(keys)
            _stale.difference_update(keys)

    def _file(self, data, expiry_age: int) -> None:
        try:
            self._cache.set(self.cache_key, data, self._cache_seconds(expiry_age))
        except CACHE_DOWN as error:
            _stale.add(self.cache_key)
            _cache_down(error)

    def load(self):
        try:
            self._forget_stale()
            data = self._cache.get(self.cache_key)
            reachable = True
        except CACHE_DOWN as error:
            data, reachable = None, False
            _cache_down(error)
        if data is None:
            row = self._get_session_from_db()
            if row is None:
                return {}
            data = self.decode(row.session_data)
            if reachable:
                self._file(data, self.get_expiry_age(expiry=row.expire_date))
        return data

    def exists(self, session_key):
        if session_key:
            try:
                if (self.cache_key_prefix + session_key) in self._cache:
                    return True
            except CACHE_DOWN as error:
                _cache_down(error)
        return super(cached_db.SessionStore, self).exists(session_key)

    def save(self, must_create=False):
        super(cached_db.SessionStore, self).save(must_create)  # the database row first
        self._file(self._session, self.get_expiry_age())

    def delete(self, session_key=None):
        super(cached_db.SessionStore, self).delete(session_key)  # the database row first
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        key = self.cache_key_prefix + session_key
        try:
            self._cache.delete(key)
        except CACHE_DOWN as error:
            _stale.add(key)
            _cache_down(error)
