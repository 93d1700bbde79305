"""Account writes: sign-up, becoming a seller, profile edits.

Stripe onboarding itself (the Express account, its status) lives in connect/services/;
here a buyer only declares they want to sell, from which country, with what bio.
"""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.models import User
from accounts.signals import seller_became
from accounts.usernames import (
    COLLISION_SEPARATOR,
    username_as_authenticated,
    username_key,
    username_mixes_scripts,
)
from core.errors import Conflict, DomainError

# Sellers are in the United States only: every price, balance and payout is in US dollars, and
# only a US Express account settles in USD (docs/operations.md, "Countries and currency").
# connect.services.rules.SELLER_COUNTRY refuses any other country at onboarding.
SELLER_COUNTRIES = [
    ("US", "United States"),
]
SELLER_COUNTRY_CODES = {code for code, _name in SELLER_COUNTRIES}
SELLER_BIO_MAX_LENGTH = User._meta.get_field("seller_bio").max_length


class InvalidInput(DomainError):
    code = "invalid"
    status = 400
    message = "That input is not valid."


class UsernameTaken(Conflict):
    code = "username_taken"
    message = "That username is taken."


class SellerCountryLocked(Conflict):
    code = "seller_country_locked"
    message = "Your Stripe account already exists, so its country can no longer change."


def _clean_bio(bio: str) -> str:
    bio = (bio or "").strip()
    if len(bio) > SELLER_BIO_MAX_LENGTH:
        raise InvalidInput(f"The bio can be at most {SELLER_BIO_MAX_LENGTH} characters.")
    return bio


CONFUSABLE_MESSAGE = "This username looks too much like an existing one. Please choose another."
MIXED_SCRIPTS_MESSAGE = (
    "Use letters from one alphabet only: this username mixes scripts (say Latin and Cyrillic) "
    "that look alike."
)


def username_problem(username: str, *, user: User | None = None) -> str:
    """Why `username` cannot be taken (by `user`, when renaming one), in plain words ("" when it
    can): it mixes look-alike scripts, or folds to the same key as another user's
    (accounts.usernames)."""
    if username_mixes_scripts(username):
        return MIXED_SCRIPTS_MESSAGE
    key = username_key(username)
    others = get_user_model().objects.all()
    if user is not None and user.pk:
        others = others.exclude(pk=user.pk)
    # A key made unique by migration 0004_hardening (key#id) still reads as its name.
    taken = Q(username_key=key) | Q(username_key__startswith=f"{key}{COLLISION_SEPARATOR}")
    if others.filter(taken).exists():
        return CONFUSABLE_MESSAGE
    return ""


def user_signup(
    *, username: str, email: str, password: str, first_name: str = "", last_name: str = ""
) -> User:
    """Creates a buyer account. The password was validated by the form (Django's validators)."""
    username = username_as_authenticated(username)
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise UsernameTaken()
    problem = username_problem(username)
    if problem:
        raise UsernameTaken(problem, code="confusable_username")
    try:
        with transaction.atomic():
            return user_model.objects.create_user(
                username=username,
                email=user_model.objects.normalize_email(email.strip()),
                password=password,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
            )
    except IntegrityError as exc:  # two sign-ups racing for one name
        raise UsernameTaken() from exc


@transaction.atomic
def user_become_seller(*, user: User, country: str | None = None, bio: str | None = None) -> User:
    """Marks a buyer as a seller: the one way in, from the profile's form (with a country and a
    bio) or from starting Stripe onboarding (connect.services.seller_become, without
    them: the profile's stay, and onboarding checks the country itself). Doing it again only
    updates the country (until the Stripe account exists, whose country is fixed) and the bio.
    The moment a buyer becomes a seller is sent once as `accounts.signals.seller_became`."""
    if country is not None:
        country = country.strip().upper()
        if country not in SELLER_COUNTRY_CODES:
            raise InvalidInput("Choose one of the listed countries.")
    if bio is not None:
        bio = _clean_bio(bio)
    locked = User.objects.select_for_update().get(pk=user.pk)
    if country is not None and locked.stripe_account_id and country != locked.seller_country:
        raise SellerCountryLocked()
    became = not locked.is_seller
    locked.is_seller = True
    if country is not None:
        locked.seller_country = country
    if bio is not None:
        locked.seller_bio = bio
    locked.save(update_fields=["is_seller", "seller_country", "seller_bio"])
    user.is_seller, user.seller_country, user.seller_bio = True, locked.seller_country, locked.seller_bio
    if became:
        seller_became.send(sender=User, user=user)
    return user


def user_update_profile(
    *,
    user: User,
    first_name: str,
    last_name: str,
    email: str,
    seller_bio: str | None = None,
) -> User:
    """Edits the name and email, and the bio when given (sellers only)."""
    user.first_name = first_name.strip()
    user.last_name = last_name.strip()
    user.email = get_user_model().objects.normalize_email(email.strip())
    fields = ["first_name", "last_name", "email"]
    if seller_bio is not None:
        if not user.is_seller:
            raise InvalidInput("Only sellers have a public bio.")
        user.seller_bio = _clean_bio(seller_bio)
        fields.append("seller_bio")
    user.save(update_fields=fields)
    return user


def user_update_seller_bio(*, user: User, bio: str) -> User:
    """The bio on the seller's public page; buyers have none."""
    if not user.is_seller:
        raise InvalidInput("Only sellers have a public bio.")
    user.seller_bio = _clean_bio(bio)
    user.save(update_fields=["seller_bio"])
    return user
