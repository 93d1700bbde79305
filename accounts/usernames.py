"""What makes two usernames "the same" for people and for the rate limiter.

Django authenticates with the username as `UsernameField` cleans it: stripped and NFKC
normalised (so `ｂuyer`, in full-width letters, *is* `buyer`). On top of that, people cannot
tell apart letters that look alike, from other scripts (Cyrillic `у` and Latin `y`) or from
Latin itself (`ƒ` and `f`, `rn` and `m`, `0` and `O`), nor letter case. `username_key` folds
all of it into one skeleton:

1. Case folded (after NFKC): `MAGGIE` is `maggie`.
2. Unicode's confusable skeleton (UTS #39, section 4, https://www.unicode.org/reports/tr39/):
   every character replaced by the prototype it is confusable with, from Unicode's
   confusables.txt as shipped by confusable-homoglyphs (`_prototypes`), and case folded again.
   This already maps `m` to `rn`, `0` to `o`, and `1` and `|` to `l`. A letter whose lower case
   has no Latin look-alike but whose capital has (Cyrillic `в`, `В` reads as `B`) takes the
   capital's, so a name in capitals folds like the same name in lower case.
3. Accents dropped (combining diacritical marks, U+0300-U+036F): `é` reads as `e`, and `ƒ`,
   whose prototype is `f` with a comma below, as `f`.
4. Two folds Unicode's table does not make (`ASCII_FOLDS`): `vv` reads as `w`, and `i` as
   `l`. The second follows from the rest: capital `I` reads as `l` (Unicode's table says so)
   and the key ignores case, so `i`, `I` and `l` must share one key.

Deliberately not folded: digits other than `0` and `1` (`5`/`s`, `8`/`b`, `3`/`e` are read as
digits, and names like `fan1985` are common), and the separators `.`, `-` and `_`. Folding more
refuses more honest names; by design `mark` and `rnark`, `ian` and `lan`, `jose` and `josé`
share a key (each pair reads alike at a glance), while `anna` and `anne` do not.

Sign-up refuses a name whose key an existing user already has, and a name that mixes scripts;
`User.username_key` is unique; the login limiter counts per key. Migration 0004_hardening
recomputes the keys of existing users (`recompute_username_keys`).
"""

import logging
import re
import unicodedata
from collections import defaultdict
from functools import lru_cache

from confusable_homoglyphs import confusables
from django.contrib.auth.forms import UsernameField

logger = logging.getLogger(__name__)

KEY_LENGTH = 300  # User.username_key's max_length
# Separates a key from the user id that makes it unique when two existing users had the same
# skeleton (see `collision_key`); no username character has a prototype containing it.
COLLISION_SEPARATOR = "#"
ASCII_FOLDS = (("vv", "w"), ("i", "l"))
_DIACRITICS = re.compile("[\u0300-\u036f]")
# confusable-homoglyphs keeps the bidirectional marks its source printed around right-to-left
# characters.
_DIRECTION_MARKS = str.maketrans("", "", "\u200e\u200f")


def username_as_authenticated(value) -> str:
    """The username exactly as Django's login form hands it to authenticate()."""
    return UsernameField().to_python(value if isinstance(value, str) else "") or ""


@lru_cache(maxsize=1)
def _prototypes() -> dict[str, str]:
    """Character -> its UTS #39 prototype, rebuilt from confusable-homoglyphs' table.

    That table lists each confusables.txt line both ways (source -> prototype and back), so the
    direction is recovered: a character listed with a multi-character string is a source of that
    prototype (`m` -> `rn`); single characters form stars, a prototype (listed with all its
    sources) and its sources (listed with it alone). A pair listed only with each other is one
    source and its prototype in some order; either serves as the canonical one, since a key only
    needs every member of a group to map to the same character (the ASCII one, else the lower
    code point).
    """
    sequences: dict[str, str] = {}
    neighbours: defaultdict[str, set[str]] = defaultdict(set)
    for char, glyphs in confusables.confusables_data.items():
        char = char.translate(_DIRECTION_MARKS)
        if len(char) != 1:
            continue
        for glyph in glyphs:
            other = glyph["c"].translate(_DIRECTION_MARKS)
            if len(other) > 1:
                sequences[char] = other
            elif other:
                neighbours[char].add(other)
                neighbours[other].add(char)

    table: dict[str, str] = {}
    for char, others in neighbours.items():
        if len(others) > 1:  # a prototype with several sources
            continue
        (other,) = others
        if len(neighbours[other]) > 1:  # a source of the prototype `other`
            table[char] = other
        else:
            table[char] = min((char, other), key=lambda c: (not c.isascii(), ord(c)))
    for char, sequence in sequences.items():
        table[char] = "".join(table.get(c, c) for c in sequence)
    return {char: proto for char, proto in table.items() if char != proto}


def _skeleton(text: str) -> str:
    """UTS #39 skeleton (NFD, each character to its prototype, NFD), accents dropped."""
    table = _prototypes()
    text = "".join(table.get(char, char) for char in unicodedata.normalize("NFD", text))
    return _DIACRITICS.sub("", unicodedata.normalize("NFD", text))


def _fold(text: str) -> str:
    return _skeleton(_skeleton(text).casefold())


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    """A case-folded character's skeleton, case-folded (`0` -> `O` -> `o`). A letter with a Latin
    look-alike only as a capital (Cyrillic `в`, whose `В` reads as `B`) takes the capital's:
    the key ignores case, and a name in capitals must fold like the same name in lower case."""
    folded = _fold(char)
    if not folded.isascii():
        capital = _fold(char.upper())
        if capital.isascii():
            return capital
    return folded


def username_key(value) -> str:
    """One key for every spelling that reads as the same name (see the module doc)."""
    name = unicodedata.normalize("NFKC", username_as_authenticated(value).casefold())
    key = "".join(_fold_char(char) for char in name)
    for seen, canonical in ASCII_FOLDS:
        key = key.replace(seen, canonical)
    return unicodedata.normalize("NFC", key)[:KEY_LENGTH]


def collision_key(key: str, pk) -> str:
    """The unique key of an existing user whose skeleton an older user already had."""
    suffix = f"{COLLISION_SEPARATOR}{pk}"
    return key[: KEY_LENGTH - len(suffix)] + suffix


def username_key_is_current(stored: str, *, username: str, pk) -> bool:
    """Whether `stored` is this username's key: the plain one, or the one made unique by
    `collision_key` (which save() must keep, or the unique constraint would fail)."""
    key = username_key(username)
    return stored == key or (pk is not None and stored == collision_key(key, pk))


def recompute_username_keys(user_model) -> list[tuple[str, str]]:
    """Gives every user the current key; used by migration 0004_hardening, and again whenever
    the folding or the confusables data changes.

    Users whose names now share a skeleton were all allowed in before: the oldest (date joined,
    then id) keeps the plain key, each later one gets `collision_key` (logged, and returned as
    (newer username, older username) pairs for the migration to print), so the unique constraint
    holds and nobody is locked out. Rows whose key changes first get a temporary key of their
    own, so a rerun under the constraint never meets another row's old key.
    """
    owners: dict[str, str] = {}
    targets: dict[int, str] = {}
    collisions: list[tuple[str, str]] = []
    users = user_model.objects.order_by("date_joined", "pk")
    for pk, username, stored in users.values_list("pk", "username", "username_key").iterator():
        key = username_key(username)
        if key in owners:
            collisions.append((username, owners[key]))
            logger.warning(
                "Username %r reads like the older %r: kept, with the key %r.",
                username, owners[key], collision_key(key, pk),
            )
            key = collision_key(key, pk)
        else:
            owners[key] = username
        if key != stored:
            targets[pk] = key
    for pk in targets:
        user_model.objects.filter(pk=pk).update(username_key=f"{COLLISION_SEPARATOR}{pk}")
    for pk, key in targets.items():
        user_model.objects.filter(pk=pk).update(username_key=key)
    return collisions


def username_mixes_scripts(value) -> bool:
    """Latin letters with Cyrillic or Greek ones (`раypal`): built to look like another name."""
    return bool(confusables.is_mixed_script(username_as_authenticated(value)))
