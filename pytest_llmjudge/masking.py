"""Secrets kept out of every text the plugin writes: error messages, the judge's
replies, the cache and its export, and the JSON, HTML and JUnit reports.

A secret is the value of an environment variable whose name says it holds one (KEY,
TOKEN, SECRET, PASSWORD) and is long enough to be one, plus the credentials written
into an ``api_base`` URL (``http://user:pass@host``), which the remote backend
registers here. Providers echo a refused key in their errors, and a misbehaving
server can echo a request header into its reply: every such text passes through
``mask`` before it leaves the process.
"""

from __future__ import annotations

import os
import threading
from urllib.parse import urlsplit, urlunsplit

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


def mask(text: str) -> str:
    for value in secret_values():
        if value in text:
            text = text.replace(value, MASK)
    return text


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
