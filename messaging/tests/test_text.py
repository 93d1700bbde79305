"""A message as HTML (messaging/text.py): escaped text, kept line breaks, safe http/https links."""

from messaging.text import message_html


def test_markup_in_a_message_is_shown_as_text():
    html = message_html('<script>alert(1)</script><img src=x onerror=alert(1)> & "quoted"')
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html and "&quot;quoted&quot;" in html


def test_an_https_address_becomes_a_link_that_passes_no_ranking_and_no_opener():
    html = message_html("Photos: https://example.com/stub?a=1&b=2.")
    assert html == (
        'Photos: <a href="https://example.com/stub?a=1&amp;b=2" rel="nofollow noopener ugc" target="_blank">'
        "https://example.com/stub?a=1&amp;b=2</a>."
    )


def test_other_schemes_stay_text():
    html = message_html("javascript:alert(1) data:text/html,<b>x</b> ftp://example.com")
    assert "<a " not in html
    assert "&lt;b&gt;" in html


def test_an_address_cannot_break_out_of_its_attribute():
    html = message_html('https://example.com/"onmouseover="alert(1) and https://x.test/<script>')
    assert 'href="https://example.com/"' in html
    assert "onmouseover=&quot;" in html or '"onmouseover' not in html.split("</a>")[0]
    assert "<script>" not in html


def test_line_breaks_are_kept_and_a_bracketed_address_keeps_its_own_bracket():
    html = message_html("Line one\r\nsee (https://en.wikipedia.org/wiki/Stub_(ticket))")
    assert html.startswith("Line one<br>see (")
    assert 'href="https://en.wikipedia.org/wiki/Stub_(ticket)"' in html
    assert html.endswith("</a>)")


def test_a_bare_scheme_is_not_a_link():
    assert "<a " not in message_html("https:// is how it starts")
