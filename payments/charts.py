"""Server-drawn inline SVG charts: no JavaScript, no CDN, no style="" (the CSP forbids it).

Geometry goes in SVG presentation attributes (x, y, width, height); colours come from the
stylesheet through classes (`.chart .bar`, `.chart .axis`, `.chart text`). Each chart has a
<title> and <desc> for screen readers, each bar its own <title> (a tooltip on hover), and the
page shows a text summary next to it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from marketplace.pricing import format_usd as dollars

# Small user units so the 10px labels stay readable when a phone shrinks the chart.
WIDTH = 360
HEIGHT = 170
PLOT_TOP = 14
PLOT_BOTTOM = 146  # y of the x axis
PLOT_LEFT = 46
PLOT_RIGHT = 354
LABEL_EVERY_DAYS = 7


@dataclass(frozen=True)
class DaySales:
    day: datetime.date
    amount_cents: int
    count: int


def dollars_short(cents: int) -> str:
    """An axis label: whole dollars, then thousands and millions ($950, $1,788, $12k, $1.2M)."""
    whole = cents / 100
    if whole >= 999_500:  # would round to "$1000k"
        return f"${whole / 1_000_000:.1f}M"
    if whole >= 10_000:
        return f"${whole / 1000:.0f}k"
    return f"${whole:,.0f}"


def fill_days(
    *, totals: dict[datetime.date, tuple[int, int]], last_day: datetime.date, days: int
) -> list[DaySales]:
    """One entry per day, oldest first, zero where nothing sold."""
    first_day = last_day - datetime.timedelta(days=days - 1)
    series = []
    for offset in range(days):
        day = first_day + datetime.timedelta(days=offset)
        amount, count = totals.get(day, (0, 0))
        series.append(DaySales(day=day, amount_cents=amount, count=count))
    return series


def _sales(count: int) -> str:
    return f"{count} sale{'s' if count != 1 else ''}"


def sales_summary(series: list[DaySales]) -> str:
    total = sum(d.amount_cents for d in series)
    count = sum(d.count for d in series)
    if not count:
        return f"No sales in the last {len(series)} days."
    best = max(series, key=lambda d: (d.amount_cents, d.day))
    return (
        f"{dollars(total)} from {_sales(count)} in the last {len(series)} days; "
        f"best day {best.day:%b} {best.day.day}, {dollars(best.amount_cents)}."
    )


def _axes(peak: int) -> SafeString:
    """The x and y axes, with the top value and $0 on the y axis."""
    return format_html(
        '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        '<text x="{}" y="{}" text-anchor="end">{}</text>'
        '<text x="{}" y="{}" text-anchor="end">$0</text>',
        PLOT_LEFT,
        PLOT_BOTTOM,
        PLOT_RIGHT,
        PLOT_BOTTOM,
        PLOT_LEFT,
        PLOT_TOP,
        PLOT_LEFT,
        PLOT_BOTTOM,
        PLOT_LEFT - 4,
        PLOT_TOP + 4,
        dollars_short(peak) if peak else "",
        PLOT_LEFT - 4,
        PLOT_BOTTOM,
    )


def sales_bar_chart(series: list[DaySales], *, title: str = "Sales over the last 30 days") -> SafeString:
    """A bar per day (height = amount sold), with the top value and a few dates on the axes."""
    peak = max((d.amount_cents for d in series), default=0)
    slot = (PLOT_RIGHT - PLOT_LEFT) / max(len(series), 1)
    bar_width = max(slot * 0.7, 1)
    plot_height = PLOT_BOTTOM - PLOT_TOP

    bars = []
    labels = []
    for index, day in enumerate(series):
        height = round(plot_height * day.amount_cents / peak, 1) if peak else 0
        if day.amount_cents and height < 1:
            height = 1  # a sale is always visible
        x = round(PLOT_LEFT + index * slot + (slot - bar_width) / 2, 1)
        tooltip = f"{day.day:%b} {day.day.day}: {dollars(day.amount_cents)}, {_sales(day.count)}"
        bars.append((x, round(PLOT_BOTTOM - height, 1), round(bar_width, 1), height, tooltip))
        if (len(series) - 1 - index) % LABEL_EVERY_DAYS == 0:  # counted back from today
            last = index == len(series) - 1  # today's label ends at the edge instead of overflowing it
            labels.append(
                (
                    PLOT_RIGHT if last else round(x + bar_width / 2, 1),
                    PLOT_BOTTOM + 14,
                    "end" if last else "middle",
                    f"{day.day:%b} {day.day.day}",
                )
            )

    bar_markup = format_html_join(
        "",
        '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
        bars,
    )
    label_markup = format_html_join("", '<text x="{}" y="{}" text-anchor="{}">{}</text>', labels)
    axes = _axes(peak)
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img"'
        ' aria-labelledby="sales-chart-title sales-chart-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="sales-chart-title">{}</title><desc id="sales-chart-desc">{}</desc>{}{}{}</svg>',
        WIDTH,
        HEIGHT,
        title,
        sales_summary(series),
        axes,
        bar_markup,
        label_markup,
    )


def sold_prices_chart(*, sales, median_cents: int, title: str, summary: str) -> SafeString:
    """The sold-price history's chart: a bar per sale (oldest first; height = the price paid),
    a line at the median, the top price and the first and last dates on the axes. `sales` are
    (day, price_cents) pairs; the <desc> is the page's text summary."""
    peak = max((cents for _day, cents in sales), default=0)
    slot = (PLOT_RIGHT - PLOT_LEFT) / max(len(sales), 1)
    bar_width = min(max(slot * 0.6, 1), 28)
    plot_height = PLOT_BOTTOM - PLOT_TOP

    bars, labels = [], []
    for index, (day, cents) in enumerate(sales):
        height = max(round(plot_height * cents / peak, 1), 1) if peak else 0
        x = round(PLOT_LEFT + index * slot + (slot - bar_width) / 2, 1)
        bars.append(
            (
                x,
                round(PLOT_BOTTOM - height, 1),
                round(bar_width, 1),
                height,
                f"{day:%b} {day.day}, {day.year}: {dollars(cents)}",
            )
        )
        if index in (0, len(sales) - 1):
            labels.append((round(x + bar_width / 2, 1), PLOT_BOTTOM + 14, f"{day:%b} {day.day}, {day.year}"))
    if len(labels) == 2 and labels[0][0] == labels[1][0]:
        labels.pop()
    median_y = round(PLOT_BOTTOM - plot_height * median_cents / peak, 1) if peak else PLOT_BOTTOM

    bar_markup = format_html_join(
        "", '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>', bars
    )
    label_markup = format_html_join("", '<text x="{}" y="{}" text-anchor="middle">{}</text>', labels)
    axes = _axes(peak) + format_html(
        '<line class="median" x1="{}" y1="{}" x2="{}" y2="{}"><title>Median {}</title></line>',
        PLOT_LEFT,
        median_y,
        PLOT_RIGHT,
        median_y,
        dollars(median_cents),
    )
    return format_html(
        '<svg class="chart sold-prices-chart" viewBox="0 0 {} {}" role="img"'
        ' aria-labelledby="sold-prices-chart-title sold-prices-chart-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="sold-prices-chart-title">{}</title><desc id="sold-prices-chart-desc">{}</desc>'
        "{}{}{}</svg>",
        WIDTH,
        HEIGHT,
        title,
        summary,
        axes,
        bar_markup,
        label_markup,
    )
