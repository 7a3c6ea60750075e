"""The benchmark for notebooks and the command line: each function takes names and files and returns typed records."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .data import ReleaseLike, open_release

if TYPE_CHECKING:
    import polars as pl

    from ..annotator import Verdict
    from ..scoring.predictions import Predictions
    from ..scoring.results import Comparison, Result
    from ..scoring.runs import RunRecord
    from ..scoring.tasks import Task
    from ..systems.crosswalk import CrossRow


def tasks() -> list[Task]:
    """The current benchmark tasks.

    >>> names = [t.name for t in tasks()]
    >>> "stage" in names, "so_dl_bugs" in names, all(t.split == "fold" for t in tasks())
    (True, True, True)
    """
    from ..scoring.tasks import REGISTRY

    return REGISTRY.latest()


def evaluate(predictions: Any, task: str, release: ReleaseLike = None, *,
             split: str | None = None, track: str = "metadata", **options: Any) -> Result:
    """Score predictions (a file, a polars or pandas frame with issue_id and label, or a dict issue_id -> label) on a
    task; the split defaults to the task's.

    >>> result = evaluate("preds.csv", "stage", release="release", n_resamples=200)
    >>> result.split, result.main_score, 0 <= result.interval[0] <= result.score <= result.interval[1]
    ('fold', 'macro_f1', True)
    """
    from ..scoring.evaluate import evaluate as score
    from ..scoring.tasks import get

    return score(_predictions(predictions), get(task), open_release(release), split, track=track, **options)


def verdict(predictions: str | os.PathLike[str] | pl.DataFrame, task: str, release: ReleaseLike = None, *,
            allow_missing: bool = False, n_resamples: int | None = None, seed: int = 0) -> Verdict:
    """Would the paper's figures and quoted claims survive these labels, and does the system agree with the study's
    analysts as well as they agree with each other? Out-of-fold predictions on every issue of a study task.

    >>> judged = verdict(baseline("majority", "root_cause", release="release"), "root_cause", release="release")
    >>> judged.max_change > 10, judged.survive < len(judged.claims), judged.third_rater is not None
    (True, True, True)
    """
    from ..annotator import verdict as judge
    from ..scoring.protocol import N_RESAMPLES
    from ..scoring.tasks import get

    return judge(_predictions(predictions), get(task), open_release(release), allow_missing=allow_missing,
                 n_resamples=N_RESAMPLES if n_resamples is None else n_resamples, seed=seed)


def compare(a: str | os.PathLike[str] | pl.DataFrame, b: str | os.PathLike[str] | pl.DataFrame, task: str,
            release: ReleaseLike = None, *, split: str | None = None, **options: Any) -> Comparison:
    """A minus B on the same issues with a paired permutation test.

    >>> a, b = baseline("metadata", "stage", release="release"), baseline("majority", "stage", release="release")
    >>> compared = compare(a, b, "stage", release="release", n_rounds=500)
    >>> compared.test, compared.p_value >= 1 / 501
    ('paired approximate-randomization (permutation) test, two-sided', True)
    """
    from ..scoring.evaluate import compare as paired
    from ..scoring.tasks import get

    return paired(_predictions(a, "a"), _predictions(b, "b"), get(task), open_release(release), split, **options)


def baseline(name: str, task: str, release: ReleaseLike = None, *, split: str | None = None, seed: int = 0,
             track: str | None = None, out: str | os.PathLike[str] | None = None) -> pl.DataFrame:
    """A reference baseline's predictions (issue_id, label) for a task's split, ready for :func:`evaluate`; also
    written to ``out`` when given (CSV, JSONL or parquet, by its suffix).

    >>> preds = baseline("majority", "stage", release="release", split="holdout")
    >>> preds.columns, preds["label"].n_unique()
    (['issue_id', 'label'], 1)
    """
    from ..scoring.predictions import write_predictions
    from ..scoring.tasks import get
    from ..systems.baselines import run

    if out is not None:
        _writable(Path(out))
    frame = run(name, get(task), open_release(release), split, seed=seed, track=track)
    if out is not None:
        write_predictions(frame, Path(out))
    return frame


def transfer(name: str, train: str, test: str, release: ReleaseLike = None, *, seed: int = 0,
             track: str = "triage", n_resamples: int | None = None) -> tuple[pl.DataFrame, Result]:
    """A text baseline trained on every item of one task and scored on every item of a task of another source
    (``so_dl_bugs``, ``bug_kind`` and ``notes_bug_kind`` share the five DL-bug kinds); ``track`` is read on each side
    that has it, else that side's first text track; returns the predictions and their score.

    >>> preds, result = transfer("tfidf", "bug_kind", "so_dl_bugs", release="text-release", n_resamples=50)
    >>> result.task, "Others" in set(preds["label"])
    ('so_dl_bugs', False)
    """
    from ..scoring.evaluate import evaluate as score
    from ..scoring.predictions import from_frame
    from ..scoring.protocol import N_RESAMPLES
    from ..scoring.tasks import get
    from ..systems.baselines import transfer as run_across

    opened = open_release(release)
    target = get(test)
    frame = run_across(name, get(train), target, opened, seed=seed, track=track)
    scored = track if track in target.tracks else target.text_track  # the test side's text, as `across` reads it
    return frame, score(from_frame(frame, f"{name} trained on {train}"), target, opened, track=scored,
                        n_resamples=N_RESAMPLES if n_resamples is None else n_resamples)


def crosswalk(release: ReleaseLike = None, *, system: str = "tfidf", track: str = "analysis",
              seed: int = 0) -> list[CrossRow]:
    """The crosswalk checked against data: per study root cause, the share of its noted issues that a text baseline
    trained on the posts' DL-bug kinds puts in each kind, beside the kind each crosswalk version maps it to.

    >>> rows = crosswalk(release="release")
    >>> sorted({len(r.shares) for r in rows}), all(abs(sum(s for _, s in r.shares) - 1) < 1e-9 for r in rows)
    ([5], True)
    """
    from ..systems.crosswalk import check

    return check(open_release(release), system=system, track=track, seed=seed)


def _predictions(value: Any, name: str = "predictions") -> Predictions:
    """Predictions from a file, a polars or pandas frame (issue_id, label), or a mapping issue_id -> label."""
    import polars as pl

    from ..errors import CvreengError
    from ..scoring.predictions import from_frame, read_predictions

    if isinstance(value, (str, os.PathLike)):
        return read_predictions(Path(value))
    if isinstance(value, pl.DataFrame):
        return from_frame(value, name)
    if type(value).__module__.startswith("pandas") and hasattr(value, "to_dict"):
        return from_frame(pl.from_pandas(value), name)
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        labels = [v if v is None or isinstance(v, str) else str(v) for v in value.values()]
        return from_frame(pl.DataFrame({"issue_id": list(value), "label": labels},
                                       schema={"issue_id": pl.String, "label": pl.String}), name)
    raise CvreengError(f"{name}: give a predictions file, a polars or pandas DataFrame with issue_id and label, or a "
                       f"dict of issue_id -> label (got {type(value).__name__})")


def describe(task: str, release: ReleaseLike = None) -> dict[str, Any]:
    """What a classifier author needs of one task: labels with definitions and counts, declared inputs and tracks,
    split sizes and the ids to predict (``text`` holds the same as ``cvreeng-bench tasks show`` prints).

    >>> info = describe("stage", release="release")
    >>> info["split"], info["inputs"][:2], len(info["to_predict"]) == info["population_size"]
    ('fold', ['repo', 'repo_type'], True)
    """
    from ..scoring.task_data import describe as about
    from ..scoring.tasks import get

    return about(get(task), open_release(release))


def template(task: str, release: ReleaseLike = None, *, split: str | None = None,
             out: str | os.PathLike[str] | None = None) -> pl.DataFrame:
    """A predictions file to fill in (issue_id, an empty label) for the issues a split scores; written to ``out``
    (CSV, JSONL or parquet, by its suffix) when given, never over an existing file.

    >>> frame = template("root_cause", release="release", out="to-fill.csv")
    >>> frame.columns, frame["label"].null_count() == frame.height
    (['issue_id', 'label'], True)
    """
    from ..scoring.task_data import template as blank
    from ..scoring.tasks import get

    frame = blank(get(task), open_release(release), split)
    if out is not None:
        _write_new(frame, Path(out))
    return frame


def predict(task: str, release: ReleaseLike = None, *, model: str, api_url: str, out: str | os.PathLike[str],
            **options: Any) -> RunRecord:
    """A chat model's labels for a task's scored issues, through any OpenAI-compatible server, written to ``out``
    (JSONL with the raw answers) beside its run record; returns the record. Options: split, track (default: the
    task's first text track), prompt, shots, api_key_env, cache, concurrency, max_requests, model_cutoff, timeout,
    progress.

    >>> from cvreeng_bench.testing.openai_server import Model, serve
    >>> with serve(Model()) as url:  # a local server that answers like the API
    ...     record = predict("impact", "text-release", model="local", api_url=url, out="chat.jsonl", progress=False)
    >>> record.prompt, record.issues > 0, record.track
    ('zero-shot@v2', True, 'triage')
    """
    from ..scoring.tasks import get
    from ..systems.predict import predict as run

    return run(get(task), open_release(release), model=model, api_url=api_url, out=Path(out), **options)


def prompt(name: str, task: str, release: ReleaseLike = None, *, issue: str | None = None, split: str | None = None,
           track: str | None = None) -> tuple[str, list[dict[str, str]]]:
    """The chat messages a prompt sends for one scored issue (the first one unless ``issue`` is given).

    >>> issue, messages = prompt("few-shot", "impact", "text-release")
    >>> [m["role"] for m in messages][:3], messages[-1]["content"].startswith("Issue ")
    (['system', 'user', 'assistant'], True)
    """
    from ..errors import CvreengError
    from ..scoring.tasks import get
    from ..systems.predict import jobs
    from ..systems.prompts import PROMPTS
    from ..text import printable

    chosen, scored = PROMPTS.get(name), get(task)
    work = jobs(scored, open_release(release), split or scored.split, track or scored.text_track, chosen)
    found = next(((i, m) for i, m in work if i == issue), None) if issue else (work[0] if work else None)
    if found is None:
        raise CvreengError(f"{printable(issue or '', 80)} is not scored on {scored.key} ({split or scored.split})")
    return found


def agreement(release: ReleaseLike = None, *, n_resamples: int | None = None) -> dict[str, Any]:
    """The raters' agreement with the released gold per task and phase on every linked item (not a ceiling), and
    the paper's pooled kappas recomputed.

    >>> found = agreement("release", n_resamples=0)
    >>> [r["paper_kappa"] for r in found["pooled"]]
    [0.46, 0.79, 0.7]
    """
    from ..scoring.agreement import ceiling
    from ..scoring.protocol import N_RESAMPLES

    return ceiling(open_release(release), n_resamples=N_RESAMPLES if n_resamples is None else n_resamples)


def _write_new(frame: pl.DataFrame, path: Path) -> None:
    """Write a predictions frame to a file that does not exist yet (a filled-in file is never overwritten)."""
    from ..errors import CvreengError
    from ..scoring.predictions import write_predictions

    if path.exists():
        raise CvreengError(f"{path} exists; choose another --out (a filled-in predictions file is never overwritten)")
    _writable(path)
    write_predictions(frame, path)


def _writable(path: Path) -> None:
    """A predictions file's name must say one of the formats the reader takes (a .json would get CSV)."""
    from ..errors import CvreengError
    from ..scoring.predictions import FORMATS

    if path.suffix.lower() not in FORMATS:
        raise CvreengError(f"{path.name}: predictions are written as {', '.join(FORMATS)}; name the file with one of "
                           "those endings")
