"""{% load sold_prices %}: what comparable stubs sold for, on marketplace's pages, loaded by name so
marketplace does not import payments (docs/architecture.md, "Sold-price history").

{% sold_price_history stub %}: the listing page's panel (count, lowest, median, highest, the
latest sales and their chart), nothing when no comparable stub has sold;
{% card_sold_prices listings as sold %}: for a grid of search results, each card's one-line
summary by listing id, to pass on as {% listing_cards listings extras=sold %}. Both read every
group of the page with one cache round trip (payments.selectors.sold_prices).
"""

from django import template
from django.utils.html import format_html

from marketplace.pricing import format_usd
from payments.charts import sold_prices_chart
from payments.selectors.sold_prices import (
    sold_prices_for_groups,
    stub_comparable_group,
    stub_sold_prices,
)

register = template.Library()


def _summary(sold) -> str:
    return (
        f"{sold.count} sold: lowest {format_usd(sold.lowest_cents)}, median {format_usd(sold.median_cents)}, "
        f"highest {format_usd(sold.highest_cents)}."
    )


def _group_label(stub) -> str:
    if stub.performer.strip():
        return f"{stub.performer.strip()} stubs from {stub.event_date.year}"
    return f"{stub.event_name.strip()} stubs of {stub.event_date:%-d %b %Y}"


@register.inclusion_tag("payments/_sold_prices.html", takes_context=True)
def sold_price_history(context, stub):
    sold = stub_sold_prices(stub=stub, request=context.get("request"))
    if not sold.count:
        return {"sold": sold}
    label = _group_label(stub)
    summary = _summary(sold)
    oldest_first = [(sale.day, sale.price_cents) for sale in reversed(sold.recent)]
    return {
        "sold": sold,
        "label": label,
        "summary": summary,
        "chart": sold_prices_chart(
            sales=oldest_first,
            median_cents=sold.median_cents,
            title=f"Latest sales of {label}",
            summary=summary,
        ),
    }


@register.simple_tag(takes_context=True)
def card_sold_prices(context, listings):
    listings = list(listings)
    groups = {listing.pk: stub_comparable_group(listing.stub) for listing in listings}
    histories = sold_prices_for_groups(groups=groups.values(), request=context.get("request"))
    lines = {}
    for listing_id, group in groups.items():
        sold = histories[group]
        if sold.count:
            lines[listing_id] = format_html(
                '<span class="small card-sold" data-sold-prices>{} like this sold · median {} ({}–{})</span>',
                sold.count,
                format_usd(sold.median_cents),
                format_usd(sold.lowest_cents),
                format_usd(sold.highest_cents),
            )
    return lines
