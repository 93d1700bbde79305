"""One-line user text: what a form keeps of a single-line field (a title, a name, an address
line), and email subjects that no user text can break.

A line break in a header is refused by Django's mail (BadHeaderError), so a stub title stored
with one would stop every email about its order; other control characters have no place in a
one-line field either.
"""

import re
import unicodedata

from django import forms

# Line and paragraph breaks and tabs: one space each run, so "Foo\r\nBar" reads "Foo Bar".
_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+")
SUBJECT_MAX_LENGTH = 150


def single_line(value: str) -> str:
    """The text on one line: breaks and tabs become a space, other control characters go."""
    value = _BREAKS.sub(" ", value)
    return "".join(char for char in value if unicodedata.category(char) != "Cc")


def email_subject(text: str, *, max_length: int = SUBJECT_MAX_LENGTH) -> str:
    """A subject line built from any text: on one line, spaces collapsed, cut with an ellipsis."""
    subject = " ".join(single_line(text).split())
    if len(subject) > max_length:
        subject = subject[: max_length - 1].rstrip() + "…"
    return subject


class SingleLineCharField(forms.CharField):
    """A CharField for one line of text: control characters and line breaks are cleaned away
    before the length and other validators run."""

    def to_python(self, value):
        value = super().to_python(value)
        if value not in self.empty_values:
            value = single_line(value)
            if self.strip:
                value = value.strip()
        return value
