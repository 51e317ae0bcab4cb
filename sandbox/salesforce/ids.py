"""Salesforce-shaped record ids: 3-char key prefix, 12-char body, 3-char case-safe suffix.

The 15-char form is case-sensitive; the 18-char form appends a checksum that encodes which of the
first 15 characters are upper case, so 18-char ids compare safely without regard to case. Salesforce
accepts either form anywhere an id is expected and always answers with the 18-char one.
"""

from __future__ import annotations

import itertools
import re
import threading

_ALNUM = re.compile(r"^[A-Za-z0-9]+$")
_SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Real ids carry a pod/instance marker after the prefix; any fixed pair keeps the shape honest.
_INSTANCE = "8d"


def checksum(id15: str) -> str:
    out = []
    for chunk in range(3):
        bits = 0
        for pos, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << pos
        out.append(_SUFFIX_CHARS[bits])
    return "".join(out)


def normalize(value: str) -> str | None:
    """The 18-char form of a 15- or 18-char id, or None when `value` is not id-shaped."""
    if not isinstance(value, str) or len(value) not in (15, 18) or not _ALNUM.match(value):
        return None
    if len(value) == 15:
        return value + checksum(value)
    # Salesforce ignores case in 18-char ids; the suffix says what the casing really is.
    return _recase(value)


def _recase(value: str) -> str | None:
    suffix = value[15:].upper()
    chars = list(value[:15])
    for chunk, code in enumerate(suffix):
        idx = _SUFFIX_CHARS.find(code)
        if idx < 0:
            return None
        for pos in range(5):
            i = chunk * 5 + pos
            chars[i] = chars[i].upper() if idx & (1 << pos) else chars[i].lower()
    id15 = "".join(chars)
    return id15 + checksum(id15)


class IdFactory:
    """Hands out unique ids per emulator; the counter is shared by all object types."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        with self._lock:
            n = next(self._counter)
        body = ""
        for _ in range(10):
            n, rem = divmod(n, 62)
            body = _BASE62[rem] + body
        id15 = prefix + _INSTANCE + body
        return id15 + checksum(id15)
