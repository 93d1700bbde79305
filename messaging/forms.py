from django import forms

from messaging.models import MESSAGE_MAX_CHARS
from messaging.services import REPORT_REASON_MAX_CHARS


class MessageForm(forms.Form):
    # The length is checked by the service (MessageTooLong, a 400) as well as here, so JSON
    # clients get the same answer; maxlength in the page stops typing at the limit.
    body = forms.CharField(
        label="Your message",
        max_length=MESSAGE_MAX_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MESSAGE_MAX_CHARS}),
    )


class ReportForm(forms.Form):
    reason = forms.CharField(
        label="What is wrong with it? (optional)", required=False, max_length=REPORT_REASON_MAX_CHARS
    )
