"""Input parsing for the marketplace: the browse/API filters (one place) and the listing form."""

from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.core.exceptions import ValidationError

from core.text import SingleLineCharField
from marketplace import images
from marketplace.models import (
    MAX_PRICE_CENTS,
    MAX_SHIPPING_CENTS,
    MAX_STUB_PHOTOS,
    MIN_PRICE_CENTS,
    Category,
    Listing,
    ListingStatus,
    Stub,
)
from marketplace.pricing import InvalidDollarAmount
from marketplace.pricing import dollars_to_cents as dollars_text_to_cents
from marketplace.selectors import DEFAULT_SORT, SORT_ORDERINGS, ListingFilters

SORT_CHOICES = [
    ("newest", "Newest first"),
    ("price_asc", "Price: low to high"),
    ("price_desc", "Price: high to low"),
    ("event_date", "Event date"),
    ("seller_rating", "Best-rated sellers"),
]
RATING_CHOICES = [
    ("", "Any seller"), ("4.5", "Rated 4.5 and up"), ("4", "Rated 4 and up"), ("3", "Rated 3 and up"),
]
assert {key for key, _ in SORT_CHOICES} == set(SORT_ORDERINGS)

MIN_PRICE = Decimal(MIN_PRICE_CENTS) / 100
MAX_PRICE = Decimal(MAX_PRICE_CENTS) / 100


def dollars_to_cents(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


class DollarsField(forms.DecimalField):
    """A dollar amount read by the one parser every money form uses (pricing.dollars_to_cents):
    '1,500.00' is $1,500.00, '1,50' is refused rather than read as $150.00 or $1.50."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal):
            return value
        try:
            return Decimal(dollars_text_to_cents(str(value))) / 100
        except InvalidDollarAmount as error:
            raise ValidationError(str(error), code="invalid") from None


class ListingFilterForm(forms.Form):
    """The query string of `/` and `/api/listings/`: q, category, min/max price in dollars,
    date_from/date_to, sort. Used by both, so they accept and refuse exactly the same things."""

    q = SingleLineCharField(required=False, max_length=200, strip=True, label="Search")
    category = forms.ChoiceField(
        required=False, choices=[("", "All categories"), *Category.choices], label="Category"
    )
    min_price = DollarsField(
        required=False, min_value=0, max_value=MAX_PRICE, max_digits=10, decimal_places=2, label="Min $"
    )
    max_price = DollarsField(
        required=False, min_value=0, max_value=MAX_PRICE, max_digits=10, decimal_places=2, label="Max $"
    )
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    min_rating = forms.TypedChoiceField(
        required=False, choices=RATING_CHOICES, coerce=Decimal, empty_value=None, label="Seller rating"
    )
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, label="Sort")

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_price"), cleaned.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", "The maximum price is below the minimum price.")
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start is not None and end is not None and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> ListingFilters:
        """The valid part of the input: a field with an error is ignored, not guessed at."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        low, high = data.get("min_price"), data.get("max_price")
        return ListingFilters(
            q=data.get("q") or "",
            category=data.get("category") or "",
            min_price_cents=dollars_to_cents(low) if low is not None else None,
            max_price_cents=dollars_to_cents(high) if high is not None else None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            sort=data.get("sort") or DEFAULT_SORT,
            min_rating=data.get("min_rating"),
        )


def parse_listing_filters(query_params) -> tuple[ListingFilterForm, ListingFilters]:
    form = ListingFilterForm(data=query_params)
    form.is_valid()
    return form, form.filters()


class PriceField(DollarsField):
    def __init__(self, **kwargs):
        super().__init__(
            max_digits=10,
            decimal_places=2,
            label="Price (US$)",
            help_text=(
                f"Between ${MIN_PRICE:.2f} and ${MAX_PRICE:,.2f} (Stripe's limits for one card payment)."
            ),
            error_messages={
                "min_value": f"The lowest price Stripe can charge is ${MIN_PRICE:.2f}.",
                "max_value": f"The highest price Stripe can charge in one payment is ${MAX_PRICE:,.2f}.",
                "max_decimal_places": "Use at most two decimals (cents).",
            },
            min_value=MIN_PRICE,
            max_value=MAX_PRICE,
            **kwargs,
        )


class StubPhotoField(forms.FileField):
    """A FileField, not ImageField: our own Pillow checks (format list, size, pixel limits)
    give clearer messages than Django's single 'invalid image'."""

    def __init__(self, **kwargs):
        accept = {"accept": "image/jpeg,image/png,image/webp"}
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs=accept))
        super().__init__(
            help_text=f"JPEG, PNG or WebP, {images.photo_limits_text()}.", **kwargs
        )

    def clean(self, data, initial=None):
        data = super().clean(data, initial)
        if data and data is not initial and hasattr(data, "read"):
            images.validate_stub_photo(data)
        return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; cleans to a list (empty when none was chosen)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class StubPhotosField(MultipleFileField):
    """One to MAX_STUB_PHOTOS photos, the first the cover, each checked as the photo page checks
    them (images.validate_stub_photo: the header only); each error names the file it is about."""

    def __init__(self, **kwargs):
        accept = {"accept": "image/jpeg,image/png,image/webp", "data-photo-picker": ""}
        kwargs.setdefault("widget", MultipleFileInput(attrs=accept))
        super().__init__(
            label="Photos",
            help_text=(f"1 to {MAX_STUB_PHOTOS}: the first is the cover buyers see in the listings. "
                       f"JPEG, PNG or WebP, {images.photo_limits_text()} each."),
            error_messages={"required": "Add at least one photo of the stub."},
            **kwargs,
        )

    def clean(self, data, initial=None):
        files = [upload for upload in super().clean(data, initial) if upload]
        if self.required and not files:
            raise ValidationError(self.error_messages["required"], code="required")
        if len(files) > MAX_STUB_PHOTOS:
            raise ValidationError(
                f"A stub has at most {MAX_STUB_PHOTOS} photos; you chose {len(files)}.", code="photo_count"
            )
        errors = []
        for number, upload in enumerate(files, start=1):
            try:
                images.validate_stub_photo(upload)
            except ValidationError as error:
                name = getattr(upload, "name", "") or "without a name"
                errors += [f"Photo {number} ({name}): {message}" for message in error.messages]
        if errors:
            raise ValidationError(errors, code="photo_invalid")
        return files


class ListingForm(forms.ModelForm):
    """The stub's facts, its photos and the asking price, for both create and edit: a new
    listing takes all its photos at once (`photos`); an edit may replace the cover (`photo`),
    and the photo page (marketplace.views_photos) adds, reorders and deletes the rest."""

    price = PriceField()
    shipping = DollarsField(
        required=False, min_value=0, max_value=Decimal(MAX_SHIPPING_CENTS) / 100, max_digits=6,
        decimal_places=2, label="Shipping (US$)",
        help_text="Added to the price at checkout; leave empty or 0 for free shipping. At most $100.",
        error_messages={"max_value": "Shipping is at most $100.00.",
                        "max_decimal_places": "Use at most two decimals (cents)."},
    )
    accept_offers = forms.BooleanField(
        required=False, label="Accept offers",
        help_text="Buyers may offer a lower price; you accept, decline or counter within 48 hours.",
    )
    offer_minimum = DollarsField(
        required=False, min_value=Decimal(MIN_PRICE_CENTS) / 100, max_digits=10, decimal_places=2,
        label="Lowest offer you will consider (US$)",
        help_text="Never shown to buyers: an offer below it is declined at once, without saying why.",
        error_messages={"min_value": "The lowest offer is at least $0.50.",
                        "max_decimal_places": "Use at most two decimals (cents)."},
    )
    photo = StubPhotoField(required=False)

    class Meta:
        model = Stub
        fields = ["event_name", "performer", "venue", "city", "event_date", "category", "condition",
                  "description"]
        widgets = {"event_date": forms.DateInput(attrs={"type": "date"})}
        field_classes = {name: SingleLineCharField for name in ("event_name", "performer", "venue", "city")}

    def __init__(self, *args, listing: Listing | None = None, **kwargs):
        self.listing = listing
        if listing is not None:
            kwargs.setdefault("instance", listing.stub)
            kwargs.setdefault("initial", {})
            kwargs["initial"].setdefault("price", Decimal(listing.price_cents) / 100)
            kwargs["initial"].setdefault("shipping", Decimal(listing.shipping_cents) / 100)
            kwargs["initial"].setdefault("accept_offers", listing.offers_enabled)
            if listing.offer_minimum_cents is not None:
                kwargs["initial"].setdefault("offer_minimum", Decimal(listing.offer_minimum_cents) / 100)
        super().__init__(*args, **kwargs)
        # A real prompt, not Django's "---------" that reads like a value: nothing is chosen
        # for the seller, and an unchosen category is a clear error.
        self.fields["category"].choices = [("", "Choose a category"), *Category.choices]
        self.fields["category"].error_messages["required"] = "Choose a category."
        if listing is None:
            del self.fields["photo"]
            self.fields["photos"] = StubPhotosField()
        if listing is not None and listing.stub.photo:
            self.fields["photo"].help_text += " Leave empty to keep the current photo."
        if listing is not None and (listing.status == ListingStatus.SOLD or listing.reservation_is_live()):
            self.fields["price"].help_text = (
                "The price is locked while a buyer is paying for this stub, and once it has sold."
            )

    def clean_price(self):
        price = self.cleaned_data["price"]
        listing = self.listing
        if listing is not None and dollars_to_cents(price) != listing.price_cents:
            if listing.status == ListingStatus.SOLD:
                raise ValidationError("This stub has sold; its price can no longer change.")
            if listing.reservation_is_live():
                raise ValidationError(
                    "A buyer is paying for this stub right now, so the price cannot change until "
                    "the reservation ends."
                )
        return price

    def clean_shipping(self):
        shipping = self.cleaned_data.get("shipping") or Decimal(0)
        listing = self.listing
        if listing is not None and dollars_to_cents(shipping) != listing.shipping_cents:
            if listing.status == ListingStatus.SOLD or listing.reservation_is_live():
                raise ValidationError(
                    "Shipping is locked while a buyer is paying for this stub and once it has sold."
                )
        return shipping

    def clean(self):
        cleaned = super().clean()
        price, shipping = cleaned.get("price"), cleaned.get("shipping")
        both = price is not None and shipping is not None
        if both and dollars_to_cents(price + shipping) > MAX_PRICE_CENTS:
            self.add_error("shipping", f"Price plus shipping must stay within ${MAX_PRICE:,.2f}.")
        minimum = cleaned.get("offer_minimum")
        if cleaned.get("accept_offers") and minimum is not None and price is not None and minimum >= price:
            self.add_error("offer_minimum", "The lowest offer you consider must be below your price.")
        return cleaned

    @property
    def price_cents(self) -> int:
        return dollars_to_cents(self.cleaned_data["price"])

    @property
    def shipping_cents(self) -> int:
        return dollars_to_cents(self.cleaned_data.get("shipping") or Decimal(0))

    @property
    def offer_minimum_cents(self) -> int | None:
        minimum = self.cleaned_data.get("offer_minimum")
        if not self.cleaned_data.get("accept_offers") or minimum is None:
            return None
        return dollars_to_cents(minimum)

    def stub_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
