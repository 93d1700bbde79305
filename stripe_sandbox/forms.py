"""Decode Stripe's form encoding into nested Python values.

Stripe clients send ``a[b][c]=1``, ``items[0][price]=x`` and ``expand[]=y``. The SDK always
uses explicit indexes (``expand[0]=``) while browsers and curl users often write ``[]``;
both become lists. Every leaf stays a string, exactly as Stripe receives it; handlers convert
(``as_int``, ``as_bool``) and report the offending param name on bad input.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import invalid_integer, invalid_request

_KEY_PART = re.compile(r"\[([^\]]*)\]")


def parse_form(*encoded: str) -> dict[str, Any]:
    """Merge one or more urlencoded strings (query string, body) into one nested dict."""
    root: dict[str, Any] = {}
    for text in encoded:
        if not text:
            continue
        for raw_key, value in parse_qsl(text, keep_blank_values=True):
            _assign(root, _split_key(raw_key), value)
    return _lists_from_index_dicts(root)


def _split_key(raw_key: str) -> list[str]:
    head, bracket, rest = raw_key.partition("[")
    if not bracket:
        return [raw_key]
    return [head] + _KEY_PART.findall("[" + rest)


def _assign(node: dict[str, Any], parts: list[str], value: str) -> None:
    for position, part in enumerate(parts):
        last = position == len(parts) - 1
        if part == "":
            # "a[]=x": append; represented as the next free index so it joins real indexes.
            part = str(sum(1 for key in node if key.isdigit()))
        if last:
            node[part] = value
            return
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child


def _lists_from_index_dicts(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    converted = {key: _lists_from_index_dicts(child) for key, child in value.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def as_int(params: dict, name: str, *, required: bool = False, default: int | None = None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise invalid_request(f"Missing required param: {name}.", param=name, code="parameter_missing")
        return default
    try:
        return int(str(raw))
    except ValueError:
        raise invalid_integer(name, raw) from None


def as_bool(params: dict, name: str, default: bool = False) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    text = str(raw).lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise invalid_request(f"Invalid boolean: {raw}", param=name, code="parameter_invalid_string")


def as_list(params: dict, name: str) -> list:
    raw = params.get(name)
    if raw is None or raw == "":
        return []
    if isinstance(raw, list):
        return raw
    if isinstance(raw, dict):
        return list(raw.values())
    return [raw]


def merge_metadata(current: dict, update: Any, param: str = "metadata") -> dict:
    """Stripe's metadata rules: keys merge, an empty value deletes a key, "" clears all."""
    if update is None:
        return current
    if update == "":
        return {}
    if not isinstance(update, dict):
        raise invalid_request("Invalid object", param=param, code="parameter_invalid_string")
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged


_MULTIPART_NAME = re.compile(r'(?:^|;)\s*name="([^"]*)"')
_MULTIPART_FILENAME = re.compile(r'(?:^|;)\s*filename="([^"]*)"')


def parse_multipart(content_type: str,
                    body: bytes) -> tuple[list[tuple[str, str]], dict[str, tuple[str, bytes]]]:
    """A multipart/form-data body (how Stripe's clients upload files) as its text fields, in
    order, and its files: field name -> (filename, bytes)."""
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if boundary is None:
        raise invalid_request("Invalid multipart/form-data request: no boundary.")
    fields: list[tuple[str, str]] = []
    files: dict[str, tuple[str, bytes]] = {}
    for part in body.split(b"--" + boundary.group(1).encode("latin-1"))[1:]:
        if part.startswith(b"--"):
            break  # the closing delimiter
        head, separator, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise invalid_request("Invalid multipart/form-data request: a part has no headers.")
        content = content.removesuffix(b"\r\n")
        disposition = next((line.split(":", 1)[1] for line in head.decode("utf-8", "replace").split("\r\n")
                            if line.lower().startswith("content-disposition:")), "")
        name, filename = _MULTIPART_NAME.search(disposition), _MULTIPART_FILENAME.search(disposition)
        if name is None:
            raise invalid_request("Invalid multipart/form-data request: a part has no name.")
        if filename is not None:
            files[name.group(1)] = (filename.group(1), content)
        else:
            fields.append((name.group(1), content.decode("utf-8", "replace")))
    return fields, files
