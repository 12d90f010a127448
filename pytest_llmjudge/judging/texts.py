"""What makes a text judgeable: something visible, and nothing no encoding can write.

A lone surrogate (U+D800..U+DFFF, left by decoding bytes with
``errors="surrogateescape"``, or by a JSON ``\\ud800`` escape) cannot be encoded,
so no prompt, cache or report could hold it: it is an error naming the position,
never a crash mid-render. A text of only whitespace, control and format characters
(NUL, zero-width space, byte-order mark) shows a judge nothing: it counts as empty,
like whitespace, rather than being graded.
"""

from __future__ import annotations

import unicodedata

INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})  # control, format, separators


def lone_surrogate(text: str) -> int | None:
    """The index of the first lone surrogate in ``text``, or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        return err.start
    return None


def surrogate_problem(text: str, what: str) -> str | None:
    """Why ``text`` cannot be judged for a lone surrogate, in words; None if it can."""
    at = lone_surrogate(text)
    if at is None:
        return None
    return (f"{what} holds a lone surrogate U+{ord(text[at]):04X} at index {at} "
            f"(after {text[max(0, at - 20):at]!r}), which no encoding can write; it "
            "usually comes from bytes decoded with errors='surrogateescape'. Decode the "
            "bytes as UTF-8, or replace it: text.encode('utf-8', 'replace').decode()")


def visible(text: str) -> bool:
    """Whether ``text`` holds a character a reader would see."""
    return any(unicodedata.category(c) not in INVISIBLE for c in text)
