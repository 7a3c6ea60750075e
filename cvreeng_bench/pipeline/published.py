"""What other tools read from a release folder besides the package: the card's YAML header (``datasets`` loads the
files its ``data_files`` name) and ``views.sql`` (the DuckDB shell runs it). Both must say exactly what the
validated manifest says: a card pointing at ``../`` or an absolute path, or an edited ``views.sql``, would make
those tools read (or run) something the release never held, so ``validate`` reports it as an error."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..files import read_bounded
from ..layout import VIEWS
from ..problems import Problem
from .card import data_files
from .write import views_sql

CARD = "README.md"
MAX_CARD_BYTES = 4 << 20


def _card_files(text: str) -> dict[str, dict[str, str]] | str:
    """config -> split -> path from the card's YAML header, or why it cannot be read."""
    import yaml

    if not text.startswith("---\n") or "\n---\n" not in text[4:]:
        return "no YAML header"
    try:
        header: Any = yaml.safe_load(text[4:text.index("\n---\n", 4)])
    except yaml.YAMLError as error:
        return f"its YAML header does not parse ({str(error).splitlines()[0][:100]})"
    configs = header.get("configs") if isinstance(header, dict) else None
    if not isinstance(configs, list):
        return "its YAML header lists no configs"
    out: dict[str, dict[str, str]] = {}
    for entry in configs:
        files = entry.get("data_files") if isinstance(entry, dict) else None
        if not isinstance(files, list):
            return "a config of its YAML header lists no data_files"
        out[str(entry.get("config_name"))] = {str(f.get("split")): str(f.get("path")) if isinstance(f, dict) else ""
                                              for f in files if isinstance(f, dict)}
    return out


def problems(folder: Path, raw: Mapping[str, Any]) -> list[Problem]:
    """Where the card's data files or views.sql of the release in ``folder`` depart from its validated manifest
    (``raw``), and any listed file that is a link."""
    found = []
    listed = data_files(raw)
    card = folder / CARD
    try:
        said = _card_files(read_bounded(card, MAX_CARD_BYTES).decode("utf-8"))
    except (OSError, ValueError) as error:
        said = f"cannot be read ({str(error)[:100]})"
    if isinstance(said, str):
        found.append(Problem(str(card), f"the dataset card {said}; rebuild the release"))
    elif said != listed:
        wrong = sorted(name for name in set(said) | set(listed) if said.get(name) != listed.get(name))
        found.append(Problem(str(card), f"the card's data_files differ from the manifest for {', '.join(wrong[:5])}: "
                             "`datasets` would read other files than the release holds; rebuild the release"))
    views = folder / VIEWS
    try:
        same = read_bounded(views, MAX_CARD_BYTES).decode("utf-8") == views_sql(raw)
    except (OSError, ValueError):
        same = False
    if not same:
        found.append(Problem(str(views), "differs from the views the manifest lists (it was edited, or is not a "
                             "file): the DuckDB shell would run it; rebuild the release"))
    for sides in listed.values():
        for relative in sides.values():
            path = folder / relative
            if any(part.is_symlink() for part in (path, *path.parents) if part.is_relative_to(folder)):
                found.append(Problem(str(path), "is a link (or lies under one): a release holds plain files"))
    return found
