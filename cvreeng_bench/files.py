"""Reading a small file that someone else may have laid: only a regular file, never more than a limit.

A release folder, a board, a run record or a result is untrusted input. ``release.json`` may be a symlink to
``/dev/zero`` (whose size reads as 0 and which never ends) or a FIFO (whose open blocks until a writer comes);
``read_bounded`` opens without blocking, refuses anything but a regular file and reads at most ``limit`` bytes."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of ``path``; OSError when it is not a regular file, ValueError when it holds more than ``limit``."""
    handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a device, FIFO or socket)", str(path))
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(handle, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(handle)
    if size > limit:
        raise ValueError(f"{path} holds more than {limit} bytes")
    return b"".join(chunks)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"the key {next(k for k in keys if keys.count(k) > 1)!r} is given twice")
    return dict(pairs)


def strict_json(text: str | bytes) -> object:
    """JSON from an untrusted text: a key given twice or nesting too deep is a ValueError, like a syntax error."""
    import json

    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except RecursionError as error:
        raise ValueError("nested too deeply") from error
