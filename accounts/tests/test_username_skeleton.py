"""Sign-up, admin and the stored key refuse Latin and ASCII look-alikes of existing usernames
(`stafƒ` for `staff`, `maggie_0kafor` and `rnaggie_okafor` for `maggie_okafor`): the key is a
UTS #39 skeleton plus the folds accounts/usernames.py documents."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.admin import UserAddForm, UserEditForm
from accounts.models import User
from accounts.services import CONFUSABLE_MESSAGE, UsernameTaken, user_signup
from accounts.tests.factories import UserFactory
from accounts.usernames import collision_key, username_key

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
LATIN_F_WITH_HOOK = "\u0192"  # ƒ

hardening = importlib.import_module("accounts.migrations.0004_hardening")


def signup_data(username):
    return {"username": username, "email": "new@example.com",
            "password1": "tickets-from-1977", "password2": "tickets-from-1977"}


@pytest.mark.parametrize(
    ("existing", "look_alike"),
    [
        ("staff", f"staf{LATIN_F_WITH_HOOK}"),
        ("maggie_okafor", "maggie_0kafor"),
        ("maggie_okafor", "rnaggie_okafor"),
        ("maggie_okafor", "MAGGIE_OKAF0R"),
        ("maggie_okafor", "MAGGlE_OKAFOR"),
        ("walter", "vvalter"),
        ("jose", "jos\u00e9"),
    ],
)
def test_signup_refuses_a_latin_or_ascii_look_alike_of_an_existing_username(client, existing, look_alike):
    UserFactory(username=existing)

    response = client.post(SIGNUP, signup_data(look_alike))

    assert response.status_code == 400
    assert CONFUSABLE_MESSAGE.split(".")[0] in response.text
    assert list(User.objects.values_list("username", flat=True)) == [existing]


def test_the_signup_service_refuses_them_too():
    UserFactory(username="maggie_okafor")

    with pytest.raises(UsernameTaken):
        user_signup(username="rnaggie_okafor", email="x@example.com", password="pw-1977-x")


def test_honest_different_names_still_sign_up(client):
    UserFactory(username="anna")
    UserFactory(username="collector_5")

    for name in ["anne", "collector_s", "maggie_okafor"]:
        assert client.post(SIGNUP, signup_data(name)).status_code == 302, name
        client.post("/accounts/logout/")

    assert User.objects.count() == 5


def test_what_the_key_folds_and_what_it_keeps_apart():
    # One key by design: each pair reads alike at a glance, so the second name is refused.
    assert username_key("mark") == username_key("rnark")
    assert username_key("ian") == username_key("Ian") == username_key("lan") == username_key("1an")
    assert username_key("bobcat") == username_key("\u0412\u041e\u0412\u0421\u0410\u0422")  # ВОВСАТ
    assert username_key("\u0438\u0432\u0430\u043d") == username_key("\u0418\u0412\u0410\u041d")
    # Kept apart: different letters, and digits people read as digits.
    assert username_key("anna") != username_key("anne")
    assert username_key("user5") != username_key("users")
    assert username_key("fan8") != username_key("fanb")
    assert username_key("maggie.okafor") != username_key("maggie_okafor")


# -- admin and createsuperuser go through the same key --------------------------------------------


def test_admin_add_form_refuses_a_look_alike_with_the_same_message():
    UserFactory(username="staff")

    form = UserAddForm(data={"username": f"staf{LATIN_F_WITH_HOOK}", "usable_password": "true",
                             "password1": "tickets-from-1977", "password2": "tickets-from-1977"})

    assert not form.is_valid()
    assert form.errors["username"] == [CONFUSABLE_MESSAGE]


def test_admin_rename_to_a_look_alike_is_refused_but_other_edits_are_not():
    UserFactory(username="maggie_okafor")
    user = UserFactory(username="someone")
    data = {"username": "maggie_0kafor", "email": user.email, "date_joined": user.date_joined,
            "seller_country": "US", "seller_verification_level": user.seller_verification_level}

    rename = UserEditForm(instance=user, data=data)
    keep = UserEditForm(instance=user, data={**data, "username": "someone", "first_name": "Some"})

    assert not rename.is_valid()
    assert rename.errors["username"] == [CONFUSABLE_MESSAGE]
    keep.is_valid()
    assert "username" not in keep.errors


def test_createsuperuser_path_stores_the_skeleton_and_the_database_refuses_a_second():
    User.objects.create_superuser("MAGGIE_OKAF0R", "root@example.com", "tickets-from-1977")

    assert User.objects.get().username_key == username_key("maggie_okafor")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("rnaggie_okafor", "x@example.com", "tickets-from-1977")


# -- migration 0004_hardening: existing users who now read alike ----------------------------------


def _legacy_user(username, *, days_ago):
    """A user as an older key function left it: a key that did not see the look-alike."""
    user = UserFactory(username=username)
    User.objects.filter(pk=user.pk).update(
        username_key=f"legacy-{user.pk}", date_joined=timezone.now() - timedelta(days=days_ago)
    )
    return user


def test_the_migration_keeps_colliding_users_and_the_key_unique(capsys):
    newest = _legacy_user("MAGGIE_OKAF0R", days_ago=1)
    oldest = _legacy_user("maggie_okafor", days_ago=30)
    newer = _legacy_user("rnaggie_okafor", days_ago=10)
    staff = _legacy_user("staff", days_ago=5)
    honest = _legacy_user("anna", days_ago=3)

    hardening.recompute_username_keys(apps, None)

    keys = dict(User.objects.values_list("username", "username_key"))
    assert keys == {
        "maggie_okafor": username_key("maggie_okafor"),
        "rnaggie_okafor": collision_key(username_key("maggie_okafor"), newer.pk),
        "MAGGIE_OKAF0R": collision_key(username_key("maggie_okafor"), newest.pk),
        "staff": "staff",
        "anna": "anna",
    }
    assert "'rnaggie_okafor' reads like the older 'maggie_okafor'" in capsys.readouterr().out
    assert {oldest.pk, staff.pk, honest.pk} < set(User.objects.values_list("pk", flat=True))


def test_a_user_kept_by_the_migration_can_still_be_saved_and_still_blocks_look_alikes(client):
    _legacy_user("maggie_okafor", days_ago=30)
    newer = _legacy_user("rnaggie_okafor", days_ago=10)
    hardening.recompute_username_keys(apps, None)

    newer.refresh_from_db()
    newer.first_name = "Maggie"
    newer.save()  # a full save keeps its unique key instead of failing the constraint
    User.objects.filter(username="maggie_okafor").delete()

    assert User.objects.get(pk=newer.pk).username_key == collision_key("rnaggle_okafor", newer.pk)
    assert client.post(SIGNUP, signup_data("maggie_okafor")).status_code == 400


def test_running_the_migration_again_changes_nothing():
    _legacy_user("maggie_okafor", days_ago=30)
    _legacy_user("rnaggie_okafor", days_ago=10)
    hardening.recompute_username_keys(apps, None)
    before = dict(User.objects.values_list("pk", "username_key"))

    hardening.recompute_username_keys(apps, None)

    assert dict(User.objects.values_list("pk", "username_key")) == before
