"""The order page's rating form (the buyer) and answer form (the seller); the views validate
JSON bodies with the same forms."""

from django import forms

RATING_CHOICES = [(5, "5 stars: excellent"), (4, "4 stars: good"), (3, "3 stars: all right"),
                  (2, "2 stars: poor"), (1, "1 star: bad")]


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="Your rating", choices=RATING_CHOICES, coerce=int, widget=forms.RadioSelect,
        error_messages={"required": "Choose from 1 to 5 stars.",
                        "invalid_choice": "Choose from 1 to 5 stars."},
    )
    comment = forms.CharField(
        label="How did it go? (optional)", required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReplyForm(forms.Form):
    reply = forms.CharField(label="Your answer", max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
