"""One generic registry for every declaration: tasks, prompts, baselines and sources.

An entry is a frozen object with a ``name`` and a whole-number ``version``; ``name@vN`` is its key. The
registry refuses a second entry under a registered key and a version older than the newest; it records
each entry's fingerprint when it is registered and refuses to hand out an entry whose content changed
since (a mutable field edited in place), so a changed declaration is always a new version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Generic, Protocol, TypeVar

from .errors import CvreengError


class RegistryError(CvreengError):
    """An unknown or duplicate entry, or an entry changed in place."""


class Declared(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def version(self) -> int: ...


T = TypeVar("T", bound=Declared)


def fingerprint(entry: object) -> str:
    """A digest of the entry's content (its repr: frozen dataclasses print every field)."""
    return hashlib.sha256(repr(entry).encode()).hexdigest()


def split_key(text: str) -> tuple[str, int | None]:
    """'name@v2' -> ('name', 2); 'name' -> ('name', None)."""
    base, marker, suffix = text.partition("@v")
    if not marker:
        return text, None
    if not suffix.isdigit():
        raise RegistryError(f"{text!r}: a version is a whole number, as in {base}@v1")
    return base, int(suffix)


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """ " (did you mean 'x'?)" for the closest known names to a mistyped one, else "" (difflib, as git suggests)."""
    import difflib

    folded = {k.casefold(): k for k in known}
    close = [folded[c] for c in difflib.get_close_matches(word.casefold(), folded, n=2, cutoff=0.6)]
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


class Registry(Generic[T]):
    """Entries of one kind by name and version (``kind`` names them in messages: "task", "prompt", ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, dict[int, T]] = {}
        self._prints: dict[tuple[str, int], str] = {}

    def register(self, entry: T) -> T:
        versions = self._entries.setdefault(entry.name, {})
        key = f"{entry.name}@v{entry.version}"
        if entry.version in versions:
            raise RegistryError(f"{self.kind} {key} is already registered; a changed {self.kind} needs a new version")
        if versions and entry.version < max(versions):
            raise RegistryError(f"{self.kind} {entry.name}: version {entry.version} is older than v{max(versions)}")
        versions[entry.version] = entry
        self._prints[(entry.name, entry.version)] = fingerprint(entry)
        return entry

    def _checked(self, entry: T) -> T:
        if fingerprint(entry) != self._prints[(entry.name, entry.version)]:
            raise RegistryError(f"{self.kind} {entry.name}@v{entry.version} was changed after it was registered; "
                                "register the change as a new version")
        return entry

    def get(self, name: str, version: int | None = None) -> T:
        base, suffix = split_key(name)
        version = suffix if suffix is not None else version
        if base not in self._entries:
            raise RegistryError(f"unknown {self.kind} {base[:60]!r}{did_you_mean(base, self._entries)}; {self.kind}s: "
                                f"{', '.join(sorted(self._entries))}")
        versions = self._entries[base]
        if version is None:
            return self._checked(versions[max(versions)])
        if version not in versions:
            raise RegistryError(f"{self.kind} {base} has no version {version}; versions: {sorted(versions)}")
        return self._checked(versions[version])

    def latest(self) -> list[T]:
        """The newest version of every entry, by name."""
        return [self._checked(v[max(v)]) for _, v in sorted(self._entries.items())]

    def is_latest(self, entry: T) -> bool:
        return max(self._entries[entry.name]) == entry.version

    def names(self) -> list[str]:
        return sorted(self._entries)

    def versions(self, name: str) -> list[T]:
        """Every registered version of one entry, oldest first."""
        base, _ = split_key(name)
        return [self._checked(entry) for _, entry in sorted(self._entries.get(base, {}).items())]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and split_key(name)[0] in self._entries

    def __iter__(self) -> Iterator[T]:
        return iter(self.latest())

    def __len__(self) -> int:
        return len(self._entries)
