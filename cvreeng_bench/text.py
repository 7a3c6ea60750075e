"""Text from data made safe to print: control characters (ANSI and OSC escapes among them) are shown
escaped, never sent to the terminal, and long values are cut to a readable length."""

from __future__ import annotations

ECHO = 200  # characters of a value echoed in a message


def printable(text: object, limit: int = ECHO, *, keep_newlines: bool = False) -> str:
    value = str(text)
    escaped = "".join(c if c.isprintable() or (keep_newlines and c == "\n")
                      else c.encode("unicode_escape").decode("ascii") for c in value)
    return escaped if len(escaped) <= limit else escaped[:limit] + "..."
