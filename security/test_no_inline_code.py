"""Our Content Security Policy allows no inline script and no inline style, so a page that has
one is broken in the browser (a confirm() in an onclick never runs: the button acts at once).
These scans keep such code out of the templates and out of HTML built in Python."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Every app of ours (each has an apps.py, so a new one is scanned without being listed here),
# the project package and the shared templates. The Stripe sandbox is not scanned: it stands in
# for Stripe's own pages, served from its own origin under no policy of ours.
APPS = tuple(sorted({path.parent.name for path in ROOT.glob("*/apps.py")} | {"stubcollector", "templates"}))

INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE | re.DOTALL)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)


def _files(suffix: str):
    for app in APPS:
        for path in sorted((ROOT / app).rglob(f"*{suffix}")):
            if "migrations" in path.parts or "tests" in path.parts:
                continue
            yield path


def _offences(pattern, *, suffix: str, skip=lambda path: False) -> list[str]:
    found = []
    for path in _files(suffix):
        if skip(path):
            continue
        text = path.read_text()
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)[:80]!r}")
    return found


def _is_email(path: Path) -> bool:
    # Emails are read in mail clients, where no Content Security Policy applies and inline
    # styles are the only styles that work.
    return "emails" in path.parts


def test_no_template_has_an_inline_event_handler_script_or_javascript_url():
    for pattern in (INLINE_HANDLER, INLINE_SCRIPT, JAVASCRIPT_URL):
        assert _offences(pattern, suffix=".html") == []


def test_no_page_template_has_an_inline_style():
    for pattern in (STYLE_ATTRIBUTE, STYLE_ELEMENT):
        assert _offences(pattern, suffix=".html", skip=_is_email) == []


def test_no_html_built_in_python_has_an_inline_handler_or_script():
    for pattern in (INLINE_HANDLER, INLINE_SCRIPT, JAVASCRIPT_URL, STYLE_ATTRIBUTE):
        assert _offences(pattern, suffix=".py") == []


def test_the_scan_finds_what_it_looks_for():
    samples = ['<button onclick="return confirm(1)">', "<a href='javascript:void(0)'>",
               "<script>x()</script>", '<div style="margin: 0">', "<style>p{}</style>"]
    patterns = (INLINE_HANDLER, JAVASCRIPT_URL, INLINE_SCRIPT, STYLE_ATTRIBUTE, STYLE_ELEMENT)
    for sample, pattern in zip(samples, patterns, strict=True):
        assert pattern.search(sample), sample
    assert not INLINE_SCRIPT.search('<script src="/static/js/site.js" defer></script>')
    assert not INLINE_HANDLER.search('<input name="onboarding" data-on="x">')


def test_the_scan_covers_every_app_that_renders_html():
    # A hand-written list missed the apps split out of payments, the dispute desk among them.
    for app in ("accounts", "connect", "core", "disputes", "marketplace", "messaging", "payments",
                "ratings", "reconciliation", "stubcollector", "templates"):
        assert app in APPS
