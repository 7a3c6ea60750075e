"""The one way a JSON object becomes a typed record: every field checked against its declared type, states turned
into their enums, JSON lists into tuples where a field is a tuple; a missing or mistyped field is one error naming
the field and the value. Run records, evaluate results and board entries are read through it."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

from .errors import CvreengError

T = TypeVar("T")
SHOWN = 60  # characters of a bad value echoed


Check = Callable[[Any], tuple[bool, Any]]  # value -> (whether it fits, the value as the record holds it)


@functools.cache
def _check(hint: Any) -> Check:
    """The check of one declared type, built once per type (a board reads a thousand entries of the same class)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [_check(arg) for arg in typing.get_args(hint)]

        def any_of(value: Any) -> tuple[bool, Any]:
            for option in options:
                fits, converted = option(value)
                if fits:
                    return True, converted
            return False, value

        return any_of
    if hint is type(None) or hint is None:
        return lambda value: (value is None, value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        members = {member.value: member for member in hint}
        return lambda value: (True, members[value]) if isinstance(value, str) and value in members else (False, value)
    if origin is tuple:
        return lambda value: (True, tuple(value)) if isinstance(value, (list, tuple)) else (False, value)
    if origin is not None:  # list[...], dict[...]: the container's kind (its items are the reader's to check)
        return lambda value: (isinstance(value, origin), value)
    if hint is Any:
        return lambda value: (True, value)
    if hint in (int, float):  # a bool is never a number here; a whole number is a float
        kinds = (int,) if hint is int else (int, float)
        return lambda value: (isinstance(value, kinds) and not isinstance(value, bool), value)
    return lambda value: (isinstance(value, hint), value)


@functools.cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)  # resolved once per class: a board reads a thousand entries


def from_json(cls: type[T], data: Any, where: str, error: type[CvreengError]) -> T:
    """A ``cls`` record from parsed JSON; unknown keys are ignored, a required field must be there."""
    if not isinstance(data, dict):
        raise error(f"{where}: not a {cls.__name__} record (a JSON object is expected)")
    hints = _hints(typing.cast("Any", cls))
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]  # cls is a dataclass
        if field.name not in data:
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise error(f"{where}: not a {cls.__name__} record: missing {field.name}")
            continue
        fits, values[field.name] = _check(hints[field.name])(data[field.name])
        if not fits:
            raise error(f"{where}: field {field.name} must be {field.type}, got {str(data[field.name])[:SHOWN]!r}")
    return cls(**values)
