"""The 30-day sales chart: inline SVG the CSP allows, accessible, with a text summary."""

import datetime
import re

from payments.charts import DaySales, dollars_short, fill_days, sales_bar_chart, sales_summary

TODAY = datetime.date(2026, 11, 27)


def series_with(sales: dict[datetime.date, tuple[int, int]]):
    return fill_days(totals=sales, last_day=TODAY, days=30)


def test_fill_days_gives_one_entry_per_day_oldest_first_with_zeros():
    series = series_with({TODAY: (500, 1)})
    assert len(series) == 30
    assert series[0].day == TODAY - datetime.timedelta(days=29)
    assert series[-1] == DaySales(day=TODAY, amount_cents=500, count=1)
    assert sum(day.count for day in series) == 1


def test_chart_draws_a_bar_per_day_with_the_tallest_for_the_best_day():
    svg = str(sales_bar_chart(series_with({TODAY: (5000, 2), TODAY - datetime.timedelta(days=3): (1000, 1)})))
    bars = re.findall(r'<rect class="bar" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', svg)
    assert len(bars) == 30
    heights = [float(h) for h in bars]
    assert heights[-1] == max(heights)
    assert heights[-4] == heights[-1] / 5
    assert heights.count(0) == 28


def test_chart_has_no_inline_style_or_script_because_of_the_csp():
    svg = str(sales_bar_chart(series_with({TODAY: (5000, 2)})))
    assert "style=" not in svg
    assert "<script" not in svg
    assert svg.startswith('<svg class="chart"')


def test_chart_is_accessible_with_a_title_a_description_and_a_title_per_bar():
    svg = str(sales_bar_chart(series_with({TODAY: (5000, 2)})))
    assert 'role="img"' in svg
    assert '<title id="sales-chart-title">Sales over the last 30 days</title>' in svg
    assert "<desc" in svg
    assert "<title>Nov 27: $50.00, 2 sales</title>" in svg


def test_a_tiny_sale_is_still_visible_next_to_a_big_one():
    svg = str(
        sales_bar_chart(series_with({TODAY: (99_999_999, 1), TODAY - datetime.timedelta(days=1): (50, 1)}))
    )
    heights = [float(h) for h in re.findall(r'height="([\d.]+)"><title>', svg)]
    assert heights[-2] >= 1


def test_an_empty_month_draws_flat_and_says_so():
    series = series_with({})
    svg = str(sales_bar_chart(series))
    assert 'height="0"' in svg
    assert sales_summary(series) == "No sales in the last 30 days."


def test_summary_gives_total_count_and_best_day():
    summary = sales_summary(series_with({TODAY: (5000, 2), TODAY - datetime.timedelta(days=3): (1000, 1)}))
    assert summary == "$60.00 from 3 sales in the last 30 days; best day Nov 27, $50.00."


def test_text_in_the_chart_is_escaped():
    svg = str(sales_bar_chart(series_with({}), title="<b>Sales</b>"))
    assert "<b>" not in svg
    assert "&lt;b&gt;" in svg


def test_axis_labels_stay_short_for_big_amounts():
    assert dollars_short(178_800) == "$1,788"
    assert dollars_short(1_234_500) == "$12k"
    assert dollars_short(99_999_999) == "$1.0M"
    assert dollars_short(95_000) == "$950"


def test_today_is_always_labelled_and_labels_do_not_crowd():
    svg = str(sales_bar_chart(series_with({})))
    labels = re.findall(r'y="160" text-anchor="(?:middle|end)">([^<]+)</text>', svg)
    assert labels[-1] == "Nov 27"
    assert len(labels) == 5
