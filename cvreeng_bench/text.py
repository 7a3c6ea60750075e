"""Text from data made safe to print: control characters (ANSI and OSC escapes among them) are shown
escaped, never sent to the terminal, and long values are cut to a readable length."""

from __future__ import annotations

import re

ECHO = 200  # characters of a value echoed in a message


def printable(text: object, limit: int = ECHO, *, keep_newlines: bool = False) -> str:
    value = str(text)
    escaped = "".join(c if c.isprintable() or (keep_newlines and c == "\n")
                      else c.encode("unicode_escape").decode("ascii") for c in value)
    return escaped if len(escaped) <= limit else escaped[:limit] + "..."


# Markdown's inline syntax: escaped, a submitter's name can be neither a link, an image, emphasis nor HTML.
_MARKDOWN = re.compile(r"([\\`*_\[\]()!<>|#~])")
FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula


def markdown_cell(text: object, limit: int = 10**9) -> str:
    """One Markdown table cell: on one line, control characters shown escaped, Markdown syntax backslashed."""
    return _MARKDOWN.sub(r"\\\1", printable(" ".join(str(text).split()), limit))


def csv_cell(text: str) -> str:
    """A text cell a spreadsheet will not run: one that starts like a formula gets a leading apostrophe (OWASP's
    advice); a number written as text (-0.5) stays as it is."""
    if text[:1] in FORMULA and not _number(text):
        return "'" + text
    return text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def redact(text: str, *secrets: str | None) -> str:
    """The text with each secret (a token or key a server echoed back) replaced, before it is cut, stored or shown:
    a secret cut in half would otherwise survive the replacement."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "<redacted>")
    return text
