"""Input of the checkout and order routes: the shipping address, the PaymentIntent request,
the ship form. Amounts are never input: the price always comes from the listing."""

from django import forms

from core.countries import country_choices
from core.ids import MAX_ID
from core.text import SingleLineCharField
from payments.shipping import ShippingCarrier

SHIPPING_FIELDS = (
    "shipping_name",
    "shipping_line1",
    "shipping_line2",
    "shipping_city",
    "shipping_state",
    "shipping_postal_code",
    "shipping_country",
)


class CountryField(forms.ChoiceField):
    """A country from the list; JSON clients may still send the ISO code in lower case."""

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {"invalid_choice": "Choose a country from the list."})
        super().__init__(choices=country_choices, **kwargs)

    def to_python(self, value):
        return super().to_python(value).strip().upper()


class ShippingAddressForm(forms.Form):
    shipping_name = SingleLineCharField(label="Full name", max_length=200)
    shipping_line1 = SingleLineCharField(label="Address line 1", max_length=200)
    shipping_line2 = SingleLineCharField(label="Address line 2", max_length=200, required=False)
    shipping_city = SingleLineCharField(label="City", max_length=120)
    shipping_state = SingleLineCharField(label="State / region", max_length=120, required=False)
    shipping_postal_code = SingleLineCharField(label="Postal code", max_length=20)
    shipping_country = CountryField(label="Country", initial="US")

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

    def shipping(self) -> dict:
        return {name: self.cleaned_data[name] for name in SHIPPING_FIELDS}


class CreatePaymentIntentForm(ShippingAddressForm):
    """`POST /payments/create-payment-intent/`: the listing and where to ship it. Any amount
    or price the client adds is not a field here, so it is ignored."""

    listing_id = forms.IntegerField(min_value=1, max_value=MAX_ID)


class ShipOrderForm(forms.Form):
    # Optional for JSON clients (docs/architecture.md, "URLs"); the page's select asks for it.
    shipping_carrier = forms.ChoiceField(
        label="Carrier", required=False, choices=[("", "Choose the carrier"), *ShippingCarrier.choices]
    )
    tracking_number = SingleLineCharField(label="Tracking number (optional)", max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shipping_carrier"].widget.attrs["required"] = True
