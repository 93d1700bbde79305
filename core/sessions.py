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

import copy
import logging
import time

from django.conf import settings
from django.contrib import auth
from django.contrib.sessions.backends import cached_db
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils.crypto import constant_time_compare

from core.cache_health import CACHE_DOWN, cache_down

# Cache keys of sessions saved or ended while the cache could not be told: deleted from it first
# thing once it answers again.
_stale: set[str] = set()
logger = logging.getLogger(__name__)


def _cache_down(error: Exception) -> None:
    cache_down(error, consequence="sessions are read from the database", logger=logger)


def _cache_seconds(expiry_age: int | None = None) -> int:
    seconds = getattr(settings, "SESSION_CACHE_SECONDS", 300)
    return max(0, seconds if expiry_age is None else min(expiry_age, seconds))


# -- the visitor's user row, read with the session --------------------------------------------------
# A logged-in request's user row is filed in the cache beside its session (USER_KEY), with the
# value the user's change marker (CHANGED_KEY) had before the row was read from the database. Every
# save or delete of the user moves the marker on and deletes the copy (at once and again after the
# commit), so a copy read while the row was changing is refused by its stale marker: a password
# change, a deactivation or a staff flag change takes effect on the next request. The copy is kept
# SESSION_CACHE_SECONDS at most, which bounds what a change the cache could not be told about
# (an outage, or a bulk update() that sends no signal) leaves behind.
USER_KEY = "core:session-user:{}"
CHANGED_KEY = "core:session-user-changed:{}"
# Per process: the user id of each session cache key this process has read, so the next read of
# that session asks for the user's copy and marker (and `read_with_session`'s keys) in the same
# round trip. Bounded: emptied when it holds too many.
_session_users: dict[str, str] = {}
_SESSION_USERS_MAX = 20000
# Functions of a user id giving keys a logged-in page reads anyway (the header's unread count):
# read in the session's round trip, see `session_prefetched`.
_read_with_session: list = []
NOT_READ = object()


def read_with_session(keys_for) -> None:
    """Read `keys_for(user_id)` with every logged-in visitor's session (apps register at ready())."""
    if keys_for not in _read_with_session:
        _read_with_session.append(keys_for)


def session_prefetched(request, key):
    """The value of `key` as read with this request's session (None: the cache has none), or
    NOT_READ when it was not read with it (then ask the cache)."""
    session = getattr(request, "session", None)
    found = getattr(session, "prefetched", None)
    if not found or key not in found:
        return NOT_READ
    return found[key]


def _keys_with_session(user_id: str) -> list[str]:
    keys = [USER_KEY.format(user_id), CHANGED_KEY.format(user_id)]
    for keys_for in _read_with_session:
        keys.extend(keys_for(int(user_id)))
    return keys


def user_changed(sender, instance, **kwargs) -> None:
    """post_save/post_delete receiver of the user model: its cached copy no longer counts."""
    _forget_user(instance.pk)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _forget_user(instance.pk))


def _forget_user(user_id) -> None:
    key = USER_KEY.format(user_id)
    try:
        cache.set(CHANGED_KEY.format(user_id), time.time_ns(), None)
        cache.delete(key)
    except CACHE_DOWN as error:
        _stale.add(key)  # deleted by this process once the cache answers again
        _cache_down(error)


def connect_user_receivers() -> None:
    """Called from core's AppConfig.ready(): in every process, before any user is saved."""
    post_save.connect(user_changed, sender=settings.AUTH_USER_MODEL, dispatch_uid="core_session_user")
    post_delete.connect(user_changed, sender=settings.AUTH_USER_MODEL, dispatch_uid="core_session_user_del")


def _without_password(user):
    """A copy of the row with its password hash deferred, for the cache: Redis holds the session's
    auth hash already (an HMAC of the password hash), never the hash itself. Code that needs the
    password (a password change checks the old one) loads it from the database as for any deferred
    field, and saving the copy writes only the fields it holds (Model.save with deferred fields)."""
    filed = copy.copy(user)
    del filed.__dict__["password"]
    return filed


def cached_user(request):
    """request.user as auth.get_user(request) finds it, from the copy read with the session when it
    is current (no query), else from the database (then filed). Django's checks are the same: the
    session's backend must still be configured, the user active (the backend's
    user_can_authenticate), and the session's auth hash that of the user's password; anything else
    goes to auth.get_user, which refuses or flushes as it always does."""
    session = request.session
    user_id = session.get(auth.SESSION_KEY)
    backend_path = session.get(auth.BACKEND_SESSION_KEY)
    if user_id is None or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return auth.get_user(request)
    user_key, changed_key = USER_KEY.format(user_id), CHANGED_KEY.format(user_id)
    if getattr(session, "cache_down", False):  # the session's own read found it away just now
        return auth.get_user(request)
    found = getattr(session, "prefetched", None)
    if not found or user_key not in found:
        try:
            found = cache.get_many([user_key, changed_key])
        except CACHE_DOWN as error:
            _cache_down(error)
            return auth.get_user(request)
    filed, marker = found.get(user_key), found.get(changed_key)
    if filed is not None:
        user, auth_hash, filed_marker = filed
        backend = auth.load_backend(backend_path)
        session_hash = session.get(auth.HASH_SESSION_KEY)
        if (filed_marker == marker and str(user.pk) == str(user_id)
                and getattr(backend, "user_can_authenticate", lambda user: True)(user)
                and session_hash and constant_time_compare(session_hash, auth_hash)):
            user.backend = backend_path
            return user
    user = auth.get_user(request)
    if user.is_authenticated and str(user.pk) == str(user_id):
        try:
            cache.set(user_key, (_without_password(user), user.get_session_auth_hash(), marker),
                      _cache_seconds())
        except CACHE_DOWN as error:
            _cache_down(error)
    return user


class SessionStore(cached_db.SessionStore):
    def _cache_seconds(self, expiry_age: int) -> int:
        return _cache_seconds(expiry_age)

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
        self.prefetched, self.cache_down = {}, False
        user_id = _session_users.get(self.cache_key)
        try:
            self._forget_stale()
            if user_id is None:
                data = self._cache.get(self.cache_key)
            else:  # the user's copy and what pages read anyway, in the same round trip
                keys = _keys_with_session(user_id)
                found = self._cache.get_many([self.cache_key, *keys])
                data = found.get(self.cache_key)
                if data is not None and data.get(auth.SESSION_KEY) == user_id:
                    self.prefetched = {key: found.get(key) for key in keys}
            reachable = True
        except CACHE_DOWN as error:
            data, reachable, self.cache_down = None, False, True
            _cache_down(error)
        if data is None:
            row = self._get_session_from_db()
            if row is None:
                return {}
            data = self.decode(row.session_data)
            if reachable:
                self._file(data, self.get_expiry_age(expiry=row.expire_date))
        if data.get(auth.SESSION_KEY) is not None and reachable:
            if len(_session_users) >= _SESSION_USERS_MAX:
                _session_users.clear()
            _session_users[self.cache_key] = data[auth.SESSION_KEY]
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
