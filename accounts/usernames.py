"""What makes two usernames "the same" for people and for the rate limiter.

Django authenticates with the username as `UsernameField` cleans it: stripped and NFKC
normalised (so `ｂuyer`, in full-width letters, *is* `buyer`). On top of that, people cannot
tell apart letters from different scripts that look alike (Cyrillic `у` and Latin `y`), or
letter case. `username_key` folds all of it into one key: NFKC, case-folded, and every
character mapped to the ASCII letter it is confusable with (Unicode's confusables data, as
shipped by confusable-homoglyphs). Sign-up refuses a name whose key an existing user already
has, and a name that mixes scripts; the login limiter counts per key.
"""

import unicodedata
from functools import lru_cache

from confusable_homoglyphs import confusables
from django.contrib.auth.forms import UsernameField


def username_as_authenticated(value) -> str:
    """The username exactly as Django's login form hands it to authenticate()."""
    return UsernameField().to_python(value if isinstance(value, str) else "") or ""


@lru_cache(maxsize=4096)
def _ascii_lookalike(char: str) -> str:
    for glyph in confusables.confusables_data.get(char, ()):
        folded = unicodedata.normalize("NFKC", glyph["c"]).casefold()
        if folded.isascii() and folded.isprintable():
            return folded
    return char


def username_key(value) -> str:
    """One key for every spelling that reads as the same name (see the module doc)."""
    name = unicodedata.normalize("NFKC", username_as_authenticated(value).casefold())
    return "".join(char if char.isascii() else _ascii_lookalike(char) for char in name)[:300]


def username_mixes_scripts(value) -> bool:
    """Latin letters with Cyrillic or Greek ones (`раypal`): built to look like another name."""
    return bool(confusables.is_mixed_script(username_as_authenticated(value)))
