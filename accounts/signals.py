"""Signals accounts sends for the apps built on it (accounts imports none of them)."""

from django.dispatch import Signal

# A buyer has just become a seller (accounts.services.user_become_seller), inside its
# transaction; sent once per user, with `user`. payments puts it on the audit trail.
seller_became = Signal()
