"""What a classifier author needs of one task: its labels with definitions and counts, its declared
inputs and tracks, split sizes and the ids to predict (``cvreeng-bench tasks show``, ``template``), and
the task as a ready-to-train table (the release's per-task configs)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from .splits import SIDED, TEST, TRAIN
from .tasks import ALL, Task, items

if TYPE_CHECKING:
    import polars as pl

    from ..release import Release


def describe(task: Task, release: Release) -> dict[str, Any]:
    population = items(task, release, ALL)
    counts = Counter(label for gold in population["gold"].to_list() for label in gold)
    sizes = {split: {TRAIN: int((population[split] == TRAIN).sum()), TEST: int((population[split] == TEST).sum())}
             for split in SIDED if split in task.splits}
    to_predict = items(task, release, task.split)["issue_id"].to_list()
    info = {**task.to_dict(), "definitions": {label: task.definition(label) for label in task.labels},
            "issues_per_label": {label: counts.get(label, 0) for label in task.labels},
            "population_size": population.height, "split_sizes": sizes, "to_predict": to_predict}
    lines = [f"{task.key}: {task.description}", f"population: {population.height} {task.population}; main score "
             f"{task.main_score}; one label per issue", "", "labels (issues with the label, definition):"]
    lines += [f"  {label} ({counts.get(label, 0)}): {task.definition(label)}" for label in task.labels]
    lines += ["", f"inputs: {', '.join(task.inputs)}",
              "tracks: " + "; ".join(f"{t} = metadata{' + ' + ', '.join(f) if f else ''}"
                                     for t, f in info["tracks"].items()), "",
              "splits (train / test): " + ", ".join(f"{s} {v[TRAIN]}/{v[TEST]}" for s, v in sizes.items()),
              f"to predict ({task.split} test side, {len(to_predict)} issues): "
              f"`cvreeng-bench template {task.name} --out preds.csv` lists them", ""]
    info["text"] = "\n".join(lines)
    return info


def template(task: Task, release: Release, split: str | None = None) -> pl.DataFrame:
    """A predictions file to fill in: the issues of the split's test side, an empty label column."""
    import polars as pl

    ids = items(task, release, split or task.split)["issue_id"].to_list()
    return pl.DataFrame({"issue_id": ids, "label": [None] * len(ids)}, schema={"issue_id": pl.String,
                                                                               "label": pl.String})


def task_frames(task: Task, tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The task as ready-to-train tables, ``train`` and ``test`` sides of its main split (of holdout when the main
    split is out-of-fold; ``fold`` then gives each issue's fold): issue_id, the
    declared inputs (and the text fields when the release has texts), the gold as class indices in the task's
    label order (``label``: the first defect's; ``labels``: the whole gold set), ``label_text`` and ``fold``."""
    import polars as pl

    from .tasks import gold

    # The sides are the holdout split's when the main split is out-of-fold (the fold column gives the folds).
    sides = task.split if task.split in SIDED else "holdout"
    splits = tables["splits"].filter(pl.col("task") == task.name).select("issue_id", sides, "fold")
    frame = gold(task, tables).join(splits, on="issue_id", how="inner")
    frame = frame.join(task.source.items(tables).select("issue_id", *task.inputs), on="issue_id", how="left")
    raw = task.source.raw_texts(tables)  # the population's text fields, where this release has them
    texts = tuple(c for c in raw.columns if c != "issue_id") if raw is not None else ()
    if raw is not None:
        frame = frame.join(raw, on="issue_id", how="left")
    index = {label: i for i, label in enumerate(task.labels)}
    frame = frame.sort("issue_id").with_columns(
        pl.col("primary").replace_strict(index, return_dtype=pl.Int64).alias("label"),
        pl.col("gold").list.eval(pl.element().replace_strict(index, return_dtype=pl.Int64)).alias("labels"),
        pl.col("primary").alias("label_text"))
    columns = ["issue_id", *task.inputs, *texts, "label", "labels", "label_text", "fold"]
    return {side: frame.filter(pl.col(sides) == side).select(columns) for side in (TRAIN, TEST)}
