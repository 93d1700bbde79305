"""Input of the checkout and order routes: the shipping address, the PaymentIntent request,
the ship form. Amounts are never input: the price always comes from the listing."""

from django import forms

SHIPPING_FIELDS = (
    "shipping_name",
    "shipping_line1",
    "shipping_line2",
    "shipping_city",
    "shipping_state",
    "shipping_postal_code",
    "shipping_country",
)


class ShippingAddressForm(forms.Form):
    shipping_name = forms.CharField(label="Full name", max_length=200)
    shipping_line1 = forms.CharField(label="Address line 1", max_length=200)
    shipping_line2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    shipping_city = forms.CharField(label="City", max_length=120)
    shipping_state = forms.CharField(label="State / region", max_length=120, required=False)
    shipping_postal_code = forms.CharField(label="Postal code", max_length=20)
    shipping_country = forms.RegexField(
        label="Country",
        regex=r"^[A-Za-z]{2}$",
        initial="US",
        max_length=2,
        error_messages={"invalid": "Use the two-letter country code, such as US."},
        help_text="Two-letter code, such as US.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        autocomplete = {
            "shipping_name": "name",
            "shipping_line1": "address-line1",
            "shipping_line2": "address-line2",
            "shipping_city": "address-level2",
            "shipping_state": "address-level1",
            "shipping_postal_code": "postal-code",
            "shipping_country": "country",
        }
        for name, value in autocomplete.items():
            self.fields[name].widget.attrs["autocomplete"] = value

    def clean_shipping_country(self):
        return self.cleaned_data["shipping_country"].upper()

    def shipping(self) -> dict:
        return {name: self.cleaned_data[name] for name in SHIPPING_FIELDS}


class CreatePaymentIntentForm(ShippingAddressForm):
    """`POST /payments/create-payment-intent/`: the listing and where to ship it. Any amount
    or price the client adds is not a field here, so it is ignored."""

    listing_id = forms.IntegerField(min_value=1)


class ShipOrderForm(forms.Form):
    tracking_number = forms.CharField(label="Tracking number (optional)", max_length=100, required=False)
