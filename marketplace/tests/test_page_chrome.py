"""base.html's frame drawn once per process (marketplace/templatetags/chrome.py): every page still
shows what is its own, drawn for its own request, and the kept frame follows settings."""

import pytest
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.loader import render_to_string
from django.test import RequestFactory, override_settings

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _engine_template(text: str) -> Template:
    return Engine(libraries={"chrome": "marketplace.templatetags.chrome"}).from_string(text)


def test_only_the_per_request_parts_are_drawn_again():
    drawn = []

    class Counted:
        def __init__(self, name):
            self.name = name

        def __str__(self):
            drawn.append(self.name)
            return self.name

    page = _engine_template(
        "{% load chrome %}{% chrome kind %}<{{ frame }}>{% per_request %}[{{ own }}]{% endper_request %}"
        "<{{ frame }}>{% endchrome %}"
    )
    first = page.render(Context({"kind": 1, "frame": Counted("a"), "own": Counted("x")}))
    second = page.render(Context({"kind": 1, "frame": Counted("b"), "own": Counted("y")}))
    other_kind = page.render(Context({"kind": 2, "frame": Counted("c"), "own": Counted("z")}))
    assert (first, second, other_kind) == ("<a>[x]<a>", "<a>[y]<a>", "<c>[z]<c>")
    assert drawn == ["a", "x", "a", "y", "c", "z", "c"]  # the kept frame drew nothing for "b"


def test_a_part_in_a_part_is_drawn_with_it():
    page = _engine_template(
        "{% load chrome %}{% chrome %}({% per_request %}{{ a }}{% per_request %}{{ b }}{% endper_request %}"
        "{% endper_request %}){% endchrome %}"
    )
    assert page.render(Context({"a": 1, "b": 2})) == "(12)"
    assert page.render(Context({"a": 3, "b": 4})) == "(34)"


def test_per_request_takes_no_arguments():
    with pytest.raises(TemplateSyntaxError):
        _engine_template("{% load chrome %}{% chrome %}{% per_request x %}{% endper_request %}"
                         "{% endchrome %}")


def _request(path="/", user=None):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.cookie import CookieStorage

    request = RequestFactory().get(path)
    request.user = user or AnonymousUser()
    request._messages = CookieStorage(request)
    return request


def test_base_html_draws_each_pages_blocks_search_text_and_messages():
    request = _request("/?q=first")
    page = render_to_string("base.html", {}, request)
    assert 'value="first"' in page and "<title>Stub Collector · Stub Collector</title>" in page
    request = _request("/?q=%3Cscript%3E")
    request._messages.add(20, "Saved for you")
    page = render_to_string("base.html", {}, request)
    assert 'value="&lt;script&gt;"' in page and 'value="first"' not in page
    assert "Saved for you" in page


def test_base_html_draws_the_menu_of_the_visitor_of_each_request():
    """And nothing of one visitor's reaches another's frame: whatever base.html draws of the user
    outside a `{% per_request %}` (their name, their e-mail) would be kept and shown to the next."""
    anna = UserFactory(username="anna_q7", email="anna_q7@example.com")
    bert = UserFactory(username="bert_z9", email="bert_z9@example.com")
    anonymous = render_to_string("base.html", {}, _request())
    for_anna = render_to_string("base.html", {}, _request(user=anna))
    for_bert = render_to_string("base.html", {}, _request(user=bert))
    again = render_to_string("base.html", {}, _request())
    assert "Log in" in anonymous and anonymous == again and "anna_q7" not in anonymous
    assert ">anna_q7<" in for_anna and "bert_z9" not in for_anna and "Log in" not in for_anna
    assert ">bert_z9<" in for_bert and "anna_q7" not in for_bert


def test_a_changed_setting_is_drawn_into_the_frame():
    render_to_string("base.html", {}, _request())
    with override_settings(STATIC_URL="/elsewhere/"):
        assert 'href="/elsewhere/css/site.css"' in render_to_string("base.html", {}, _request())
    assert 'href="/elsewhere/' not in render_to_string("base.html", {}, _request())


def test_the_listing_page_shows_its_own_title_and_search_text(client):
    from marketplace.tests.factories import ListingFactory, StubFactory

    woodstock = ListingFactory(stub=StubFactory(event_name="Woodstock"))
    altamont = ListingFactory(stub=StubFactory(event_name="Altamont"))
    first = client.get(f"/listings/{woodstock.pk}/").content.decode()
    second = client.get(f"/listings/{altamont.pk}/?q=free").content.decode()
    assert "<title>Woodstock · Stub Collector</title>" in first and 'id="header-q" name="q"' in first
    assert "<title>Altamont · Stub Collector</title>" in second and 'value="free"' in second
    assert "Woodstock" not in second
