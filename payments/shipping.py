"""Carriers and tracking links for shipped orders (docs/shipping.md).

`Order.shipping_carrier` holds a `ShippingCarrier` value; `tracking_url` makes the buyer's link.
Dispute evidence (disputes/services.py) reads `shipping_carrier` and `tracking_number`.
"""

from urllib.parse import quote

from django.db import models


class ShippingCarrier(models.TextChoices):
    USPS = "usps", "USPS"
    UPS = "ups", "UPS"
    FEDEX = "fedex", "FedEx"
    DHL = "dhl", "DHL"
    ROYAL_MAIL = "royal_mail", "Royal Mail"
    CANADA_POST = "canada_post", "Canada Post"
    OTHER = "other", "Other"


# The carriers' public tracking pages; `{}` is the URL-encoded tracking number.
TRACKING_URLS = {
    ShippingCarrier.USPS: "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    ShippingCarrier.UPS: "https://www.ups.com/track?tracknum={}",
    ShippingCarrier.FEDEX: "https://www.fedex.com/fedextrack/?trknbr={}",
    ShippingCarrier.DHL: "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={}",
    ShippingCarrier.ROYAL_MAIL: "https://www.royalmail.com/track-your-item#/tracking-results/{}",
    ShippingCarrier.CANADA_POST: "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={}",
}


def tracking_url(*, carrier: str, tracking_number: str) -> str:
    """The carrier's tracking page for this number; "" for "other" or without a number."""
    template = TRACKING_URLS.get(carrier)
    number = (tracking_number or "").strip()
    if not template or not number:
        return ""
    return template.format(quote(number, safe=""))
