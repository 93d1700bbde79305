"""`{% chrome vary... %}...{% endchrome %}` and `{% per_request %}...{% endper_request %}`: base.html's
page frame drawn once per process, with only its per-request parts drawn for each page.

Every page draws base.html's chrome (the head's links, the header's brand, search form and
menu, the footer): eight `{% url %}` and `{% static %}` lookups and some sixty nodes, ~0.6 ms a
page, about a tenth of a listing page that the page cache misses (bench/listing_miss.py), and
the same text for every page but for a few parts. So `{% chrome %}` draws its contents once for
each set of values it names (`vary`, plus the URLconf and script prefix reverse() uses), with a
marker where each `{% per_request %}` part goes, keeps the text between the markers, and from
then on draws only the `{% per_request %}` parts (the blocks a page fills in, the search box's
text, the logged-in visitor's menu, the messages) and joins them with the kept text.

What a template must keep to for that to be right: everything inside `{% chrome %}` and outside a
`{% per_request %}` depends only on the `vary` values, the URLconf, the script prefix and
settings (a changed setting, as tests change them, empties what is kept); a `{% per_request %}`
is not inside a `{% for %}` or `{% with %}` of the frame (it is drawn on its own, in the context
of the `{% chrome %}`), nor inside another `{% per_request %}`. Text is kept per template object,
so a template loaded again (the development server's reload) starts afresh.
"""

from django import template
from django.core.signals import setting_changed
from django.urls import get_script_prefix, get_urlconf

register = template.Library()

# A marker no rendered text carries (a control character base.html never writes; what a
# `{% per_request %}` part draws is never in the text being split: it is kept apart).
_MARK = "\x1fper-request\x1f"
# Frames kept per `{% chrome %}`: one per combination of vary values, so a handful.
_FRAMES_MAX = 64
# Moves on when any setting changes (tests' override_settings): every kept frame is then stale.
_settings_generation = [0]


def _settings_changed(**_kwargs) -> None:
    _settings_generation[0] += 1


setting_changed.connect(_settings_changed, dispatch_uid="marketplace.templatetags.chrome")

# render_context key: the list the `{% per_request %}` parts of the frame being recorded add to.
_RECORDING = "marketplace.chrome.recording"


class PerRequestNode(template.Node):
    child_nodelists = ("nodelist",)

    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        recording = context.render_context.get(_RECORDING)
        if recording is None:
            return self.nodelist.render(context)
        context.render_context[_RECORDING] = None  # a part drawn inside this one is just drawn
        try:
            recording.append((self, self.nodelist.render(context)))
        finally:
            context.render_context[_RECORDING] = recording
        return _MARK


class ChromeNode(template.Node):
    child_nodelists = ("nodelist",)

    def __init__(self, nodelist, vary):
        self.nodelist = nodelist
        self.vary = vary
        self.frames = {}

    def render(self, context):
        key = (_settings_generation[0], get_urlconf(), get_script_prefix(),
               *(value.resolve(context) for value in self.vary))
        frame = self.frames.get(key)
        if frame is not None:
            text, parts = frame
            out = [text[0]]
            for part, after in zip(parts, text[1:], strict=True):
                out.append(part.nodelist.render(context))
                out.append(after)
            return "".join(out)
        # In the render context's current level, where ExtendsNode keeps the blocks (a level of
        # its own would hide them from the blocks inside).
        recorded = []
        context.render_context[_RECORDING] = recorded
        try:
            drawn = self.nodelist.render(context)
        finally:
            del context.render_context[_RECORDING]
        text = drawn.split(_MARK)
        if len(text) != len(recorded) + 1:  # a marker where no part put one: never keep that
            raise template.TemplateSyntaxError("{% chrome %} drew a per-request marker it did not record")
        if len(self.frames) >= _FRAMES_MAX:
            self.frames.clear()
        self.frames[key] = (text, tuple(part for part, _ in recorded))
        out = [text[0]]
        for (_, part_text), after in zip(recorded, text[1:], strict=True):
            out.append(part_text)
            out.append(after)
        return "".join(out)


@register.tag
def chrome(parser, token):
    vary = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    nodelist = parser.parse(("endchrome",))
    parser.delete_first_token()
    return ChromeNode(nodelist, vary)


@register.tag
def per_request(parser, token):
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("{% per_request %} takes no arguments")
    nodelist = parser.parse(("endper_request",))
    parser.delete_first_token()
    return PerRequestNode(nodelist)
