"""core.sessions: the session read from the cache, and from the database whenever the cache is away;
a log-out ends the session even when the cache could not be told."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from redis.exceptions import ConnectionError as RedisConnectionError

from core import cache_health, sessions
from core.sessions import SessionStore

pytestmark = pytest.mark.django_db

UNREACHABLE = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                           "LOCATION": "redis://127.0.0.1:1/0"}}


def UserFactory(username="session_user"):  # noqa: N802  (core's tests cannot import accounts' factories)
    return get_user_model().objects.create_user(username=username, email=f"{username}@example.com")


@pytest.fixture(autouse=True)
def _own_state(monkeypatch):
    # The process's list of stale copies and its once-a-minute warning are each test's own.
    monkeypatch.setattr(sessions, "_stale", set())
    monkeypatch.setattr(cache_health, "_down_logged_at", {})


def session_queries(client, address="/accounts/profile/") -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(address).status_code == 200
    return sum("django_session" in query["sql"] for query in queries.captured_queries)


def test_the_site_uses_this_store():
    assert settings.SESSION_ENGINE == "core.sessions"


def test_a_logged_in_request_reads_its_session_from_the_cache(client):
    client.force_login(UserFactory())
    session_queries(client)  # filed in the cache by now, whatever force_login did
    assert session_queries(client) == 0


def test_the_cached_copy_is_kept_a_few_minutes_at_most(settings, monkeypatch):
    settings.SESSION_CACHE_SECONDS = 120
    store = SessionStore()
    store["x"] = 1
    filed = {}
    monkeypatch.setattr(store._cache, "set", lambda key, value, seconds: filed.update({key: seconds}))
    store.save()
    assert list(filed.values()) == [120]


def test_logging_out_ends_the_session_for_whoever_holds_the_old_cookie(client):
    client.force_login(UserFactory(username="leaving_user"))
    assert "leaving_user" in client.get("/").content.decode()
    old = Client()
    old.cookies[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert "leaving_user" in old.get("/").content.decode()
    client.post("/accounts/logout/")
    assert "leaving_user" not in old.get("/").content.decode()


def test_with_the_cache_down_a_session_browsing_and_logging_out_work(client, settings, caplog):
    settings.CACHES = UNREACHABLE
    # (The log-in form's rate limit counts in the cache: force_login makes the same session.)
    client.force_login(UserFactory(username="down_user"))
    assert "down_user" in client.get("/").content.decode()
    assert client.post("/accounts/logout/").status_code == 302
    assert "down_user" not in client.get("/").content.decode()
    assert not Session.objects.exists() or all(
        not row.get_decoded().get("_auth_user_id") for row in Session.objects.all()
    )
    assert "sessions are read from the database" in caplog.text


def test_a_session_ended_while_the_cache_was_away_is_not_read_from_it_once_it_is_back(client, monkeypatch):
    """The cache was unreachable at the log-out but kept its copy: the process deletes the copy
    before it reads anything from the cache again."""
    client.force_login(UserFactory(username="ended_user"))
    client.get("/")
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert cache.get(SessionStore.cache_key_prefix + key) is not None  # the copy

    def down(*args, **kwargs):
        raise RedisConnectionError("unreachable")

    with monkeypatch.context() as during_outage:
        during_outage.setattr(caches["default"], "delete", down)
        store = SessionStore(key)
        store.delete()
    assert cache.get(SessionStore.cache_key_prefix + key) is not None  # still there: it came back
    assert SessionStore(key).load() == {}
    assert cache.get(SessionStore.cache_key_prefix + key) is None
    old = Client()
    old.cookies[settings.SESSION_COOKIE_NAME] = key
    assert "ended_user" not in old.get("/").content.decode()


def test_a_session_saved_while_the_cache_was_away_is_read_from_the_database_once_it_is_back(monkeypatch):
    store = SessionStore()
    store["step"] = 1
    store.save()
    key = store.session_key
    assert SessionStore(key).load() == {"step": 1}  # the copy in the cache

    def down(*args, **kwargs):
        raise RedisConnectionError("unreachable")

    with monkeypatch.context() as during_outage:
        during_outage.setattr(caches["default"], "set", down)
        changed = SessionStore(key)
        changed["step"] = 2
        changed.save()
    assert SessionStore(key).load() == {"step": 2}


def test_exists_asks_the_database_when_the_cache_is_away(settings):
    store = SessionStore()
    store.save()
    settings.CACHES = UNREACHABLE
    assert SessionStore().exists(store.session_key)
    assert not SessionStore().exists("no-such-session-key-000000000000")


# -- the visitor's row, read with the session ----------------------------------------------------


def request_with_session_of(client) -> object:
    request = RequestFactory().get("/")
    request.session = SessionStore(client.cookies[settings.SESSION_COOKIE_NAME].value)
    return request


def user_queries(client, address="/") -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(address).content.decode()
    return page, sum('"accounts_user"' in query["sql"] for query in queries.captured_queries)


def test_a_logged_in_catalogue_page_reads_the_visitors_row_with_the_session_not_from_the_database(client):
    client.force_login(UserFactory(username="row_user"))
    client.get("/")  # files the row beside the session
    page, queries = user_queries(client)
    assert "row_user" in page and queries == 0


def test_a_password_change_ends_the_old_sessions_on_the_next_request(client):
    user = UserFactory(username="moving_user")
    client.force_login(user)
    client.get("/")
    assert "moving_user" in client.get("/").content.decode()
    user.set_password("a-new-long-password-42")
    user.save()
    assert "moving_user" not in client.get("/").content.decode()


def test_a_deactivated_user_is_logged_out_on_the_next_request(client):
    user = UserFactory(username="gone_user")
    client.force_login(user)
    client.get("/")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert "gone_user" not in client.get("/").content.decode()


def test_a_staff_flag_change_takes_effect_on_the_next_request(client):
    user = UserFactory()
    client.force_login(user)
    assert sessions.cached_user(request_with_session_of(client)).is_staff is False
    assert sessions.cached_user(request_with_session_of(client)).is_staff is False  # the copy
    user.is_staff = True
    user.save()
    assert sessions.cached_user(request_with_session_of(client)).is_staff is True


def test_a_copy_read_before_a_change_and_filed_after_it_is_refused(client):
    """A request read the row, the user was deactivated, then the request filed what it had read:
    the copy carries the marker from before the change, so it is not used."""
    user = UserFactory()
    client.force_login(user)
    sessions.cached_user(request_with_session_of(client))
    late = cache.get(sessions.USER_KEY.format(user.pk))
    user.is_active = False
    user.save()
    cache.set(sessions.USER_KEY.format(user.pk), late, 60)
    assert not sessions.cached_user(request_with_session_of(client)).is_authenticated


def test_another_users_copy_is_never_taken_for_the_visitor(client):
    visitor, other = UserFactory(username="visitor_user"), UserFactory(username="other_user")
    client.force_login(visitor)
    marker = cache.get(sessions.CHANGED_KEY.format(visitor.pk))
    cache.set(sessions.USER_KEY.format(visitor.pk), (other, other.get_session_auth_hash(), marker), 60)
    assert sessions.cached_user(request_with_session_of(client)).username == "visitor_user"


def test_the_cached_copy_holds_no_password_hash(client):
    user = UserFactory()
    client.force_login(user)
    sessions.cached_user(request_with_session_of(client))
    filed, auth_hash, _marker = cache.get(sessions.USER_KEY.format(user.pk))
    assert "password" not in filed.__dict__
    assert user.password not in repr(cache.get(sessions.USER_KEY.format(user.pk)))
    assert auth_hash == user.get_session_auth_hash()


def test_the_copy_from_the_cache_checks_and_keeps_the_password(client):
    """The copy's password is read from the database when asked for (a password change checks the
    old one), and saving the copy never writes an empty password over the real one."""
    user = UserFactory()
    user.set_password("old-secret-words")
    user.save()
    client.force_login(user)
    sessions.cached_user(request_with_session_of(client))
    from_copy = sessions.cached_user(request_with_session_of(client))
    assert "password" in from_copy.get_deferred_fields()
    from_copy.first_name = "Renamed"
    from_copy.save()
    user.refresh_from_db()
    assert user.first_name == "Renamed" and user.check_password("old-secret-words")
    assert sessions.cached_user(request_with_session_of(client)).check_password("old-secret-words")


def test_with_the_cache_down_the_visitor_is_read_from_the_database(client, settings):
    client.force_login(UserFactory(username="down_row_user"))
    client.get("/")
    settings.CACHES = UNREACHABLE
    assert sessions.cached_user(request_with_session_of(client)).username == "down_row_user"


def test_with_the_cache_down_the_row_is_not_asked_of_it_after_the_session(client, settings, monkeypatch):
    """An unreachable Redis can cost its socket timeout a call: the session's failed read is enough."""
    client.force_login(UserFactory(username="one_timeout_user"))
    settings.CACHES = UNREACHABLE
    request = request_with_session_of(client)
    request.session.load()
    assert request.session.cache_down
    asked = []
    monkeypatch.setattr(caches["default"], "get_many", lambda *args, **kwargs: asked.append(args))
    assert sessions.cached_user(request).username == "one_timeout_user"
    assert asked == []
