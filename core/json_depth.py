"""JSON from outside, parsed only when it is nested no deeper than a limit.

`json.loads` itself copes with a thousand levels, but the code that then walks the result
(recursive checks, the database's JSON encoder, logging) reaches Python's recursion limit and
answers 500. The depth is counted on the text before parsing: strings are skipped, then each
`[` or `{` opens a level. A body deeper than the limit raises `JSONTooDeep`, a ValueError, so
callers that already answer 400 for bad JSON answer 400 for it too.
"""

import json
import re

from django.conf import settings

# A JSON string, escapes included, in the unrolled form that cannot backtrack.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class JSONTooDeep(ValueError):
    pass


def json_depth(text: str) -> int:
    """How deep arrays and objects nest in `text` (0 for a scalar)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def json_loads_bounded(data: bytes | str, *, max_depth: int | None = None):
    """`json.loads(data)`, refused with JSONTooDeep when nested deeper than `max_depth`
    (default settings.JSON_MAX_DEPTH). Bytes must be UTF-8 (UnicodeDecodeError otherwise)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    limit = settings.JSON_MAX_DEPTH if max_depth is None else max_depth
    # Cheap first: fewer brackets than the limit cannot nest past it.
    if text.count("[") + text.count("{") > limit and json_depth(text) > limit:
        raise JSONTooDeep(f"The JSON is nested deeper than {limit} levels.")
    return json.loads(text)
