from django import forms
from django.contrib.auth.forms import PasswordResetForm, UserCreationForm
from django.template.loader import render_to_string

from accounts.models import User
from accounts.services import SELLER_BIO_MAX_LENGTH, SELLER_COUNTRIES, username_problem
from core.email import email_send
from core.text import SingleLineCharField


class SignupForm(UserCreationForm):
    """Username, email, password twice; Django's password validators run on it. A username that
    mixes scripts, or reads the same as an existing one, is refused (accounts.usernames)."""

    email = forms.EmailField(required=True, help_text="For order receipts. Never shown to others.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_username(self):
        username = super().clean_username()
        problem = username_problem(username)
        if problem:
            raise forms.ValidationError(problem, code="confusable_username")
        return username


class EmailServicePasswordResetForm(PasswordResetForm):
    """Django's reset form (it finds the accounts and makes the token and link) whose email goes
    through core.email.email_send like every other notice: queued, retried and logged, with the
    house templates emails/password_reset.txt and .html. An unknown address still gets no email
    and the same page (the view redirects either way)."""

    EMAIL_TEMPLATE = "password_reset"

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        # Django passes its template names; the body is always the house template above.
        email_send(
            to=to_email,
            subject=render_to_string(subject_template_name, context),
            template=self.EMAIL_TEMPLATE,
            context=context,
        )


class ProfileForm(forms.Form):
    first_name = SingleLineCharField(max_length=150, required=False)
    last_name = SingleLineCharField(max_length=150, required=False)
    email = forms.EmailField(required=True)


class BecomeSellerForm(forms.Form):
    country = forms.ChoiceField(
        choices=SELLER_COUNTRIES,
        initial="US",
        help_text="Sellers are in the United States only: every sale and payout is in US dollars.",
    )
    bio = forms.CharField(
        required=False,
        max_length=SELLER_BIO_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Shown on your public seller page.",
    )


class SellerBioForm(forms.Form):
    bio = forms.CharField(
        label="Public bio",
        required=False,
        max_length=SELLER_BIO_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Shown on your public seller page.",
    )
