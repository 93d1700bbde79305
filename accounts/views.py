"""Sign-up, log-in, log-out and the profile page. Writes go through accounts.services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from accounts.forms import (
    BecomeSellerForm,
    EmailServicePasswordResetForm,
    ProfileForm,
    SellerBioForm,
    SignupForm,
)
from accounts.services import (
    SELLER_COUNTRIES,
    user_become_seller,
    user_signup,
    user_update_profile,
    user_update_seller_bio,
)
from accounts.usernames import username_key
from core.rate_limits import post_rate_limit
from core.site import SITE_NAME, site_root

# Rates per client IP and per attempted username; only POSTs count (viewing the form is free).
# Blocked requests get core.views.rate_limited (429) through RatelimitMiddleware.
LOGIN_RATE_PER_IP = "10/m"
LOGIN_RATE_PER_USERNAME = "5/m"
SIGNUP_RATE_PER_IP = "5/h"
# A reset request sends an email: per IP, and per address so nobody can flood one inbox.
PASSWORD_RESET_RATE_PER_IP = "5/h"
PASSWORD_RESET_RATE_PER_EMAIL = "3/h"
# Setting a new password (from a reset link, or the change form) checks a password hash.
PASSWORD_SET_RATE_PER_IP = "10/h"
PASSWORD_CHANGE_RATE_PER_USER = "10/h"


def attempted_username(group, request) -> str:
    """Rate-limit key: the username as Django authenticates it (stripped, NFKC, so the full-width
    'ｂuyer' is 'buyer'), then folded for case and look-alikes (accounts.usernames.username_key):
    every spelling of one account shares one count."""
    return username_key(request.POST.get("username", ""))


def attempted_email(group, request) -> str:
    """Rate-limit key: the address a reset is asked for, as PasswordResetForm looks it up
    (case-insensitively)."""
    return request.POST.get("email", "").strip().casefold()


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_http_methods(["GET", "POST"])
@ratelimit(group="accounts.signup", key="ip", rate=SIGNUP_RATE_PER_IP, method="POST", block=True)
def signup(request):
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_signup(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}! Your account is ready.")
        return redirect(_safe_next(request, settings.LOGIN_REDIRECT_URL))
    return render(
        request,
        "accounts/signup.html",
        {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")},
        status=400 if form.is_bound else 200,
    )


class InvalidFormIs400:
    """Bad input is a 4xx, as everywhere in the project: a form sent back with its errors is a 400."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


@method_decorator(
    ratelimit(group="accounts.login.ip", key="ip", rate=LOGIN_RATE_PER_IP, method="POST", block=True),
    name="dispatch",
)
@method_decorator(
    ratelimit(
        group="accounts.login.username",
        key=attempted_username,
        rate=LOGIN_RATE_PER_USERNAME,
        method="POST",
        block=True,
    ),
    name="dispatch",
)
class LoginView(InvalidFormIs400, auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's LogoutView refuses GET): a link cannot log anyone out."""


@login_required
@require_http_methods(["GET", "POST"])
@post_rate_limit("POST_RATE_PER_USER")
def profile(request):
    user = request.user
    action = request.POST.get("action") if request.method == "POST" else None
    profile_form = ProfileForm(
        request.POST if action == "profile" else None,
        initial={"first_name": user.first_name, "last_name": user.last_name, "email": user.email},
    )
    seller_form = BecomeSellerForm(
        request.POST if action == "become_seller" else None,
        initial={"country": user.seller_country or "US", "bio": user.seller_bio},
    )
    bio_form = SellerBioForm(request.POST if action == "bio" else None, initial={"bio": user.seller_bio})

    if action == "profile" and profile_form.is_valid():
        user_update_profile(user=user, **profile_form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:profile")
    if action == "become_seller" and seller_form.is_valid():
        user_become_seller(user=user, **seller_form.cleaned_data)
        messages.success(request, "You are a seller now. Next: set up payouts with Stripe.")
        return redirect("accounts:profile")
    if action == "bio" and user.is_seller and bio_form.is_valid():
        user_update_seller_bio(user=user, bio=bio_form.cleaned_data["bio"])
        messages.success(request, "Your seller bio is saved.")
        return redirect("accounts:profile")

    if action == "bio" and not user.is_seller:
        messages.error(request, "Only sellers have a public bio. Become a seller first.")
    elif action not in (None, "profile", "become_seller", "bio"):
        messages.error(request, "That form is not on this page. Please try again.")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "accounts/profile.html",
        {
            "profile_form": profile_form,
            "seller_form": seller_form,
            "bio_form": bio_form,
            "seller_country_name": dict(SELLER_COUNTRIES).get(user.seller_country, user.seller_country),
        },
        status=status,
    )


def _reset_email_context() -> dict:
    """The reset link is built on SITE_URL (core/site.py), not on the request's Host."""
    return {"site_url": site_root(), "site_name": SITE_NAME}


@method_decorator(
    ratelimit(group="accounts.password_reset.ip", key="ip", rate=PASSWORD_RESET_RATE_PER_IP,
              method="POST", block=True),
    name="dispatch",
)
@method_decorator(
    ratelimit(group="accounts.password_reset.email", key=attempted_email,
              rate=PASSWORD_RESET_RATE_PER_EMAIL, method="POST", block=True),
    name="dispatch",
)
class PasswordResetView(InvalidFormIs400, auth_views.PasswordResetView):
    """Django's reset: the same answer whether or not the address has an account (the form
    sends nothing for an unknown address and the view redirects all the same). The email goes
    through core.email (EmailServicePasswordResetForm)."""

    form_class = EmailServicePasswordResetForm
    template_name = "accounts/password_reset_form.html"
    subject_template_name = "emails/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def get_form_kwargs(self):
        self.extra_email_context = _reset_email_context()
        return super().get_form_kwargs()


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs),
                "timeout_hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)}


@method_decorator(
    ratelimit(group="accounts.password_set.ip", key="ip", rate=PASSWORD_SET_RATE_PER_IP,
              method="POST", block=True),
    name="dispatch",
)
class PasswordResetConfirmView(InvalidFormIs400, auth_views.PasswordResetConfirmView):
    """The link from the email: signed, single use (the token covers the password hash and the
    last login) and valid for PASSWORD_RESET_TIMEOUT."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@method_decorator(
    ratelimit(group="accounts.password_change", key="user", rate=PASSWORD_CHANGE_RATE_PER_USER,
              method="POST", block=True),
    name="dispatch",
)
class PasswordChangeView(InvalidFormIs400, auth_views.PasswordChangeView):
    """Logged in: the old password, then the new one twice; the session stays logged in and
    every other session of the account is logged out (Django rotates the session hash)."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is changed.")
        return response
