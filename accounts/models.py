from django.contrib.auth.models import AbstractUser
from django.db import models


class VerificationLevel(models.TextChoices):
    UNVERIFIED = "unverified", "Unverified"
    BASIC = "basic", "Basic"
    VERIFIED = "verified", "Verified"


class StripeAccountStatus(models.TextChoices):
    NONE = "", "No Stripe account"
    PENDING = "pending", "Pending"
    RESTRICTED = "restricted", "Restricted"
    ENABLED = "enabled", "Enabled"
    DISABLED = "disabled", "Disabled"


class User(AbstractUser):
    """A buyer; a seller too once `is_seller` is set. Staff are Django's `is_staff`."""

    email = models.EmailField("email address", blank=True)
    is_seller = models.BooleanField(default=False, db_index=True)
    seller_bio = models.TextField(blank=True, max_length=2000)
    seller_country = models.CharField(max_length=2, default="US")
    seller_verification_level = models.CharField(
        max_length=16, choices=VerificationLevel.choices, default=VerificationLevel.UNVERIFIED
    )
    stripe_account_id = models.CharField(max_length=64, blank=True, default="")
    stripe_account_status = models.CharField(
        max_length=16, choices=StripeAccountStatus.choices, blank=True, default=""
    )
    stripe_onboarding_completed = models.BooleanField(default=False)
    # charges_enabled and payouts_enabled, both true
    stripe_capabilities_enabled = models.BooleanField(default=False)
    # currently_due + past_due, as Stripe names them
    stripe_requirements_due = models.JSONField(default=list, blank=True)
    stripe_requirements_past_due = models.JSONField(default=list, blank=True)
    # What Stripe will need while the account is still enabled (requirements.eventually_due,
    # .current_deadline, .errors as {requirement, code, reason}), and the requirements Stripe has
    # announced for later (future_requirements: currently_due, eventually_due, current_deadline).
    stripe_requirements_eventually_due = models.JSONField(default=list, blank=True)
    stripe_requirements_deadline = models.DateTimeField(null=True, blank=True)
    stripe_requirements_errors = models.JSONField(default=list, blank=True)
    stripe_future_requirements_due = models.JSONField(default=list, blank=True)
    stripe_future_requirements_eventually_due = models.JSONField(default=list, blank=True)
    stripe_future_requirements_deadline = models.DateTimeField(null=True, blank=True)
    stripe_disabled_reason = models.CharField(max_length=64, blank=True, default="")
    stripe_account_synced_at = models.DateTimeField(null=True, blank=True)
    # account.application.deauthorized: the platform can no longer read or charge the account.
    stripe_disconnected_at = models.DateTimeField(null=True, blank=True)
    # Who covers a negative balance this account cannot pay back (account.controller.losses.payments):
    # "application" (the platform, us) for Express accounts with direct charges.
    stripe_losses_liable = models.CharField(max_length=16, blank=True, default="")
    # The balance Stripe last reported (balance endpoint or balance.available), in cents of the
    # account's currency: available, and available + pending. Negative total: the seller owes.
    stripe_balance_available_cents = models.BigIntegerField(default=0)
    stripe_balance_cents = models.BigIntegerField(default=0)
    stripe_balance_synced_at = models.DateTimeField(null=True, blank=True)
    # The username's look-alike skeleton (accounts.usernames.username_key), unique: sign-up and
    # admin refuse a name whose key is taken. Kept in step with `username` by save(); a user who
    # already read like an older one keeps the key made unique by migration 0004_hardening.
    username_key = models.CharField(max_length=300, unique=True, editable=False, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["is_seller", "stripe_account_status"], name="user_seller_status_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_account_id"],
                condition=~models.Q(stripe_account_id=""),
                name="user_unique_stripe_account",
            ),
        ]

    def save(self, *args, **kwargs):
        # Here, not at the top: accounts.usernames imports Django's auth forms, which load the
        # auth models, and this module is the user model they are loaded for.
        from accounts.usernames import username_key, username_key_is_current

        # Every path (sign-up, admin, createsuperuser, a rename) gets the key here.
        if not username_key_is_current(self.username_key, username=self.username, pk=self.pk):
            self.username_key = username_key(self.username)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "username_key"}
        super().save(*args, **kwargs)

    @property
    def can_accept_payments(self) -> bool:
        """Onboarded, charges and payouts enabled, nothing past due, not disabled, still connected,
        and a balance that is not negative."""
        return bool(
            self.is_seller
            and self.stripe_account_id
            and self.stripe_onboarding_completed
            and self.stripe_capabilities_enabled
            and not self.stripe_requirements_past_due
            and self.stripe_account_status == StripeAccountStatus.ENABLED
            and self.stripe_disconnected_at is None
            and not self.stripe_balance_negative
        )

    @property
    def stripe_balance_negative(self) -> bool:
        """Refunds or lost disputes took more than the seller's balance holds (pending included):
        no new orders until it is covered."""
        return self.stripe_balance_cents < 0

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username
