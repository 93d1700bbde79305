"""Account reads shared by pages: the public face of a seller."""

from dataclasses import dataclass

from accounts.models import User
from stubcollector.errors import NotFound


@dataclass(frozen=True)
class SellerPublicProfile:
    username: str
    display_name: str
    bio: str
    country: str
    can_accept_payments: bool
    member_since: object


def seller_get_by_username(*, username: str) -> User:
    """The seller behind /sellers/<username>/, or NotFound (also for non-sellers)."""
    seller = User.objects.filter(username=username, is_seller=True, is_active=True).first()
    if seller is None:
        raise NotFound("No seller by that name.")
    return seller


def seller_public_profile(*, username: str) -> SellerPublicProfile:
    """Only what a stranger may see: no email, no Stripe ids or requirements."""
    seller = seller_get_by_username(username=username)
    return SellerPublicProfile(
        username=seller.username,
        display_name=seller.display_name,
        bio=seller.seller_bio,
        country=seller.seller_country,
        can_accept_payments=seller.can_accept_payments,
        member_since=seller.date_joined,
    )
