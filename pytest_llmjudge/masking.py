"""Secrets kept out of every text the plugin writes: error messages, the judge's
replies, the cache and its export, and the JSON, HTML and JUnit reports.

A secret is the value of an environment variable whose name says it holds one (KEY,
TOKEN, SECRET, PASSWORD) and is long enough to be one, plus the credentials written
into an ``api_base`` URL (``http://user:pass@host``), which the remote backend
registers here. Providers echo a refused key in their errors, and a misbehaving
server can echo a request header into its reply: every such text passes through
``mask`` before it leaves the process.

Writers mask a text before they encode it (``mask_data`` over a document before
``json.dumps``, ``mask`` before ``html.escape``): an encoder may spell a secret's
characters another way (``\u00e4``, ``&amp;``, ``\"``), and the spelled form no longer
contains the secret. ``mask`` also replaces those spelled forms, as a net under every
writer, and decodes JSON string literals that spell a secret with escapes of their
own (a server may write ``\u0073\u006b...`` for ``sk...``).
"""

from __future__ import annotations

import html
import json
import os
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

MASK = "***"
SECRET_NAMES = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL")
MIN_SECRET_CHARS = 8  # shorter values ("1", "true") would mask ordinary words

_registered: set[str] = set()
_lock = threading.Lock()


def register(value: str) -> None:
    """Treat ``value`` as a secret for the rest of the process."""
    if len(value) >= 4:  # a URL password may be short; it is still a password
        with _lock:
            _registered.add(value)


_secret_name: dict[object, bool] = {}  # environment variable name -> names a secret


def secret_values() -> list[str]:
    """Every secret this process holds, longest first (so a key that contains another
    is masked whole)."""
    values = set(_environ_secrets())
    with _lock:
        values |= _registered
    return sorted(values, key=len, reverse=True)


def _environ_secrets() -> set[str]:
    """The environment's secrets. Every text the plugin writes is masked (twice per
    replayed verdict), and testing every variable's name each time cost more than the
    rest of a replay: which names hold secrets is worked out once per name. The names
    are os.environ's own (bytes on POSIX), the public mapping where that is not there."""
    data = getattr(os.environ, "_data", None)
    items = data.items() if isinstance(data, dict) else os.environ.items()
    found = set()
    for name, value in items:
        secret = _secret_name.get(name)
        if secret is None:
            text = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
            secret = _secret_name[name] = any(n in text.upper() for n in SECRET_NAMES)
        if secret and len(value) >= MIN_SECRET_CHARS:
            found.add(value.decode("utf-8", "surrogateescape") if isinstance(value, bytes)
                      else value)
    return found


def mask(text: str, values: list[str] | None = None) -> str:
    """``text`` with every secret replaced by the mask: as written, as an encoder spells
    it, and inside a JSON string literal that spells it with escapes. ``values``: the
    secrets, where a caller masking many texts read them once (``secret_values``)."""
    if values is None:
        values = secret_values()
    if not values:
        return text
    for value in values:
        for form in _spellings(value):
            if form in text:
                text = text.replace(form, MASK)
    if "\\u" in text or "\\/" in text:  # escapes no writer of ours makes: decode them
        text = _JSON_STRING.sub(lambda found: _masked_literal(found.group(0), values), text)
    return text


def mask_data(value: Any, values: list[str] | None = None) -> Any:
    """A JSON-like document with every string in it masked (keys too), before it is
    encoded: the encoder then never sees a secret to spell another way."""
    if values is None:
        values = secret_values()
    if not values:
        return value
    if isinstance(value, str):
        return mask(value, values)
    if isinstance(value, dict):
        return {mask_data(k, values): mask_data(v, values) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_data(v, values) for v in value]
    return value


# A JSON string literal: the quotes, and characters or escapes between them.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_spelled: dict[str, tuple[str, ...]] = {}  # secret -> its spellings, the longest first


def _spellings(value: str) -> tuple[str, ...]:
    """The forms a secret takes in the files we write: as it is, JSON-escaped (with
    and without ASCII escapes), HTML- or XML-escaped (of the raw and of the JSON form:
    JUnit XML holds JSON properties), and URL-encoded."""
    known = _spelled.get(value)
    if known is not None:
        return known
    forms = {value}
    for encoded in (json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]):
        forms.add(encoded)
    for form in list(forms):
        forms.add(html.escape(form, quote=True))
        forms.add(html.escape(form, quote=False))
        forms.add(html.escape(form, quote=True).replace("&#x27;", "&apos;"))
    forms.update((quote(value, safe=""), quote_plus(value, safe="")))
    known = _spelled[value] = tuple(sorted(forms, key=len, reverse=True))
    return known


def _masked_literal(literal: str, values: list[str]) -> str:
    if "\\" not in literal:
        return literal
    try:
        decoded = json.loads(literal)
    except ValueError:
        return literal
    if not isinstance(decoded, str) or not any(v in decoded for v in values):
        return literal
    for value in values:
        decoded = decoded.replace(value, MASK)
    return json.dumps(decoded, ensure_ascii=False)


def url_credentials(url: str) -> tuple[str, ...]:
    """The secret written into a URL: its password, or a user name standing alone
    (``http://TOKEN@host`` carries a token that way)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ()
    secret = parts.password or parts.username
    return (secret,) if secret else ()


def shown_url(url: str) -> str:
    """A URL fit to print: its credential replaced by the mask."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:{MASK}" if parts.password is not None else MASK
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))
