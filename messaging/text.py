"""A message as HTML: plain text, escaped, line breaks kept, and http/https addresses made into
links that pass no ranking and no opener (rel="nofollow noopener ugc"). Nothing else becomes
markup: a message is typed by a user."""

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# An address runs to the next space or character that cannot be in one unquoted.
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
# Punctuation that ends a sentence rather than the address.
_TRAILING = ".,;:!?)]}"


def _link(url: str) -> str:
    return f'<a href="{escape(url)}" rel="nofollow noopener ugc" target="_blank">{escape(url)}</a>'


def message_html(text: str) -> SafeString:
    parts, at = [], 0
    for match in _URL.finditer(text):
        url = match.group()
        kept = url.rstrip(_TRAILING)
        # "(see https://x.test/a_(b))": a closing bracket that opened inside the address stays.
        while kept.count("(") > kept.count(")") and len(kept) < len(url) and url[len(kept)] == ")":
            kept += ")"
        parts.append(escape(text[at : match.start()]))
        parts.append(_link(kept) if len(kept) > len("https://") else escape(kept))
        at = match.start() + len(kept)
    parts.append(escape(text[at:]))
    html = "".join(parts).replace("\r\n", "\n").replace("\n", "<br>")
    return mark_safe(html)  # noqa: S308 — every piece above is escaped or built from escaped text
