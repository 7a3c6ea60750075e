"""A source of items is one declaration: a toy third population, declared in a fresh process by its pinned files,
its reader, its config's columns and one population entry (no file of the package edited), is built into a
release, split, scored and ranked like the study's issues and the Stack Overflow posts."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

from cvreeng_bench.scoring import populations, tasks

# Everything a third source needs, in one script: nothing else in the package knows about it.
TOY = r'''
import csv, json, sys
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from cvreeng_bench import api, schema
from cvreeng_bench.pipeline import sources
from cvreeng_bench.problems import Problem
from cvreeng_bench.scoring import populations, tasks

upstream, out, sha = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]

# 1. its pinned files
sources.SOURCES.register(sources.Source(
    "toy", 1, "toy-org/toy-items", "c" * 40, "2026-01-01", (sources.SourceFile("items", "items.csv", sha, "toy"),),
    license="CC0", citation="a toy", required=False))

# 2. its config's columns and its task's config
schema.SCHEMAS["toy_items"] = (schema.Column("item_id", "string", "the item", False),
                               schema.Column("text", "string", "its text", False),
                               schema.Column("label", "string", "its kind", False, classes=("alpha", "beta")))
schema.TASK_CONFIGS = (*schema.TASK_CONFIGS, "toy_kind")


# 3. its reader
@dataclass
class Read:
    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def read(files):
    found = Read()
    with files["items"].open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            if row["label"] not in ("alpha", "beta"):
                found.problems.append(Problem(f"items.csv row {number}, column label", f"unknown {row['label']!r}"))
            found.rows.append(row)
    return found


# 4. its population and its task
def items(tables):
    return tables["toy_items"].with_columns(pl.col("item_id").alias("issue_id"))


TOY = populations.POPULATIONS.register(populations.Population(
    name="toy", config="toy_items", describes="a toy item",
    gold=lambda task, tables: items(tables).select("issue_id", pl.col("label").alias("primary"),
                                                   pl.concat_list("label").alias("gold")),
    items=items, scored_configs=("toy_items",), gold_configs=("toy_items",),
    tracks={"metadata": (), "triage": ("text",)}, texts=lambda tables, fields: items(tables).select("issue_id", "text"),
    raw_texts=lambda tables: items(tables).select("issue_id", "text"), splits=("holdout", "fold"),
    repo_column=None, date_column=None, define=lambda label: f"a toy item of kind {label}", read=read))
tasks.REGISTRY.register(tasks.Task("toy_kind", "label", ("alpha", "beta"), "The kind of a toy item.", inputs=(),
                                   tracks=("metadata", "triage"), population="toy items", source=TOY,
                                   splits=TOY.splits))

from cvreeng_bench.build import build

folder, _ = build(out, upstream, verify=False, progress=False)
release = api.open_release(folder)
text = api.baseline("tfidf", "toy_kind", release=release)
chance = api.baseline("majority", "toy_kind", release=release, track="metadata")
scored = api.evaluate(text, "toy_kind", release=release, track="triage")
board = folder.parent / "board.jsonl"
text.write_csv(folder.parent / "tfidf.csv")
entry = api.submit(board, folder.parent / "tfidf.csv", release=release, task="toy_kind", track="triage",
                   name="toy tfidf")
rows = api.leaderboard(board, release=release, task="toy_kind")
print(json.dumps({
    "configs": sorted(release.tables()), "manifest_sources": sorted(release.manifest.raw["sources"]),
    "scored": sorted(release.manifest.scored_sha256), "n": scored.n, "tfidf": scored.score,
    "majority": api.evaluate(chance, "toy_kind", release=release).score, "per_year": scored.per_year,
    "folds": sorted(set(release.frame("splits").filter(pl.col("task") == "toy_kind")["fold"].to_list())),
    "task_config": api.load("toy_kind", release=release).columns,
    "board": [(r.entry.name, str(r.status), r.rank) for r in rows], "entry_task": entry.task}))
'''


def _toy_upstream(synthetic_upstream: Path, folder: Path) -> tuple[Path, str]:
    """The synthetic study upstream plus the toy source's one file, laid out as a mirror holds it."""
    upstream = folder / "upstream"
    shutil.copytree(synthetic_upstream, upstream)
    lines = ["item_id,text,label"]
    for i in range(40):
        kind = "alpha" if i % 2 else "beta"
        lines.append(f"t{i:02d},{kind} {kind}ish sample number {i} with {kind} words,{kind}")
    data = ("\n".join(lines) + "\n").encode()
    target = upstream / "toy-items" / ("c" * 40) / "items.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    return upstream, hashlib.sha256(data).hexdigest()


def test_a_third_population_needs_only_its_files_reader_columns_and_declaration(synthetic_upstream: Path,
                                                                                tmp_path: Path) -> None:
    upstream, sha = _toy_upstream(synthetic_upstream, tmp_path)
    done = subprocess.run([sys.executable, "-c", TOY, str(upstream), str(tmp_path / "release"), sha],
                          capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"toy_items", "toy_kind", "issues", "so_posts"} <= set(found["configs"])
    assert "toy" in found["manifest_sources"] and "toy" in found["scored"]
    assert found["n"] == 40 and found["folds"] == [0, 1, 2, 3, 4] and found["per_year"] == []
    assert found["tfidf"] > 0.9 > found["majority"], "the toy's text carries its label; a constant does not"
    assert {"issue_id", "text", "label", "fold"} <= set(found["task_config"])
    assert found["board"] == [["toy tfidf", "ranked", 1]] and found["entry_task"] == "toy_kind"


def test_no_module_outside_the_population_declarations_names_a_source() -> None:
    """The switch on a source string is gone: the scorer, systems and board read the population object."""
    root = Path(populations.__file__).resolve().parents[1]
    for path in root.rglob("*.py"):
        if path.name in ("populations.py", "sources.py", "card.py") or "testing" in path.parts:
            continue
        text = path.read_text("utf-8")
        assert '"so-posts"' not in text and "== STUDY" not in text and "!= STUDY" not in text, path
        assert "POPULATION_CONFIG" not in text and "GOLD_CONFIGS" not in text, path
    assert all(isinstance(task.source, populations.Population) for task in tasks.REGISTRY)
