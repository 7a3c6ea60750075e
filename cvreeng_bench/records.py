"""The one way a JSON object becomes a typed record: every field checked against its declared type, states turned
into their enums, JSON lists into tuples where a field is a tuple; a missing or mistyped field is one error naming
the field and the value. Run records, evaluate results and board entries are read through it."""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from typing import Any, TypeVar

from .errors import CvreengError

T = TypeVar("T")
SHOWN = 60  # characters of a bad value echoed


def _convert(value: Any, hint: Any) -> tuple[bool, Any]:
    """(whether ``value`` fits ``hint``, the value as the record holds it)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            fits, converted = _convert(value, arg)
            if fits:
                return True, converted
        return False, value
    if hint is type(None) or hint is None:
        return value is None, value
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return True, hint(value)
        except ValueError:
            return False, value
    if origin is tuple:
        return isinstance(value, (list, tuple)), tuple(value) if isinstance(value, (list, tuple)) else value
    if origin is not None:  # list[...], dict[...]: the container's kind (its items are the reader's to check)
        return isinstance(value, origin), value
    if hint is Any:
        return True, value
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool), value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    return isinstance(value, hint), value


def from_json(cls: type[T], data: Any, where: str, error: type[CvreengError]) -> T:
    """A ``cls`` record from parsed JSON; unknown keys are ignored, a required field must be there."""
    if not isinstance(data, dict):
        raise error(f"{where}: not a {cls.__name__} record (a JSON object is expected)")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]  # cls is a dataclass
        if field.name not in data:
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise error(f"{where}: not a {cls.__name__} record: missing {field.name}")
            continue
        fits, values[field.name] = _convert(data[field.name], hints[field.name])
        if not fits:
            raise error(f"{where}: field {field.name} must be {field.type}, got {str(data[field.name])[:SHOWN]!r}")
    return cls(**values)
