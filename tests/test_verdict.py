"""The annotator verdict: the paper's figures and quoted claims recomputed from a system's labels, and the system
as a third rater beside the study's two analysts; checked against gold, a majority rule, an independent pandas
recomputation, scikit-learn's kappa and a hand-worked alpha."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from cvreeng_bench import api
from cvreeng_bench.annotator import NO_LABEL, TOLERANCE, claim_columns, judged, relabeling
from cvreeng_bench.errors import CvreengError
from cvreeng_bench.paper import SHARE_ORDERS
from cvreeng_bench.queries import FIGURES, find
from cvreeng_bench.scoring.predictions import PredictionError, from_frame
from cvreeng_bench.scoring.tasks import get, items
from cvreeng_bench.stats import cohen_kappa, krippendorff_alpha
from tests.conftest import cli

STUDY = ("stage", "defect_type", "impact", "root_cause", "manifestation", "reporter")


def gold_predictions(release, task: str) -> pl.DataFrame:
    population = items(get(task), release, "all")
    return pl.DataFrame({"issue_id": population["issue_id"], "label": population["primary"]})


@pytest.mark.parametrize("task", STUDY)
def test_gold_labels_as_a_system_change_no_figure_and_every_claim_survives(synthetic, task: str) -> None:
    judged_ = api.verdict(gold_predictions(synthetic, task), task, synthetic, n_resamples=50)
    assert judged_.relabeled == 0
    assert judged_.figures and all(f.max_change == 0.0 and not f.verdict_changed for f in judged_.figures)
    assert judged_.survive == len(judged_.claims) > 0
    assert judged_.all_survive == judged_.all_claims == len(claim_columns())
    rater = judged_.third_rater
    if task == "reporter":  # the reporter type was not double-annotated
        assert rater is None
        return
    assert rater is not None and rater.system_gold.value == 1.0
    assert rater.system_rater_1.value == pytest.approx(rater.rater_1_gold.value)
    assert rater.system_rater_2.value == pytest.approx(rater.rater_2_gold.value)


def test_the_text_ranks_quoted_shares_in_orders_the_gold_keeps(opened) -> None:
    shares = dict(api.rq("shares", opened).select("claim", "percent").rows())
    assert all(shares[high] > shares[low] for high, low, _ in SHARE_ORDERS)
    assert len(claim_columns()) == 35
    assert claim_columns()["defects reported by re-users"] == {"reporter"}
    assert claim_columns()["reproducibility defects reported by re-users"] == {"reporter", "manifestation"}


def test_a_multi_defect_issue_keeps_its_labels_when_the_system_names_one_of_them_else_each_defect_takes_it(
        synthetic) -> None:
    task = get("stage")
    defects = api.load("defects", synthetic).filter(~pl.col("withdrawn"))
    several = (defects.group_by("issue_id").agg(pl.col("stage").unique()).filter(pl.col("stage").list.len() > 1)
               .sort("issue_id").row(0, named=True))
    issue, stages = several["issue_id"], several["stage"]
    other = next(s for s in task.labels if s not in stages)
    base = gold_predictions(synthetic, "stage")
    for said, expected in ((stages[-1], sorted(stages)), (other, [other, other])):
        labels = dict(base.rows()) | {issue: said}
        relabeled, _ = relabeling(task, labels, synthetic)
        assert relabeled == ({} if said in stages else {issue: other})
        frame = api.rq("fig7", synthetic, labels=pl.DataFrame({"issue_id": list(labels),
                                                               "label": list(labels.values())}))
        moved = frame.filter(pl.col("change") != 0)
        assert moved.is_empty() == (said in stages), f"{issue}: {said!r} -> {expected}"


def _pandas_figure(defects: pd.DataFrame, rows: str, columns: str) -> dict[tuple[str, str], float]:
    """A figure's shares (percent of each bar) computed with pandas alone."""
    table = pd.crosstab(defects[rows], defects[columns], normalize="index") * 100
    return {(r, c): float(table.loc[r, c]) for r in table.index for c in table.columns}


@pytest.mark.parametrize("task", ["stage", "root_cause"])
def test_the_majority_rule_moves_the_figures_as_an_independent_pandas_recomputation_says(
        synthetic_release: Path, synthetic, task: str) -> None:
    chosen = get(task)
    majority = api.baseline("majority", task, release=synthetic)
    judged_ = api.verdict(majority, task, synthetic, n_resamples=0)
    # Independently: the release's defects file, the protocol's rule written out in pandas.
    defects = pd.concat(pd.read_parquet(p) for p in sorted((synthetic_release / "data" / "defects").glob("*.parquet")))
    defects = defects[~defects["withdrawn"]].copy()
    task_label = defects[task].where(~defects[task].isin(chosen.merged), "Low frequency type")
    gold_sets = task_label.groupby(defects["issue_id"]).agg(set)
    said = dict(majority.rows())
    wrong = {i for i, g in gold_sets.items() if said[i] not in g}
    system = defects.copy()
    system[task] = [said[i] if i in wrong else v for i, v in zip(defects["issue_id"], defects[task], strict=True)]
    assert judged_.relabeled == len(wrong)
    for figure in judged_.figures:
        rows, columns = find(figure.figure).axes
        before, after = _pandas_figure(defects, rows, columns), _pandas_figure(system, rows, columns)
        changes = [abs(after.get(cell, 0.0) - before.get(cell, 0.0)) for cell in before.keys() | after.keys()]
        assert figure.max_change == pytest.approx(max(changes))
        assert figure.max_change > 10, "a constant label moves a figure by tens of points"
    # one quoted share, by hand
    envs = system[system["stage"] == "Environment"]
    if task == "root_cause" and len(envs):
        api_share = 100 * (envs["root_cause"] == "API defect").mean()
        claim = next(c for c in judged_.claims if c.claim == "API defects among environment defects")
        assert claim.system == pytest.approx(api_share)
        assert claim.within == (abs(claim.system - claim.gold) <= TOLERANCE)
    assert judged_.survive < len(judged_.claims), "most claims fail under a constant label"


def test_third_rater_kappas_equal_scikit_learn_on_the_linked_items(synthetic) -> None:
    from sklearn.metrics import cohen_kappa_score

    task = get("root_cause")
    predictions = api.baseline("metadata", "root_cause", release=synthetic)
    rater = api.verdict(predictions, "root_cause", synthetic, n_resamples=200).third_rater
    assert rater is not None
    # The linked final-phase items, read straight from the annotations config.
    notes = api.load("annotations", synthetic).filter((pl.col("phase") == "final") & pl.col("issue_id").is_not_null())
    pairs = notes.pivot(on="rater", index="item", values=["root_cause", "issue_id"]).rows(named=True)

    def spaced(value: str | None) -> str | None:
        mapped = None if value is None else task.task_label(value)
        return mapped if mapped in task.labels else None

    kept = [(r["issue_id_1"], spaced(r["root_cause_1"]), spaced(r["root_cause_2"])) for r in pairs]
    kept = [k for k in kept if k[1] is not None and k[2] is not None]
    said = dict(predictions.rows())
    primary = dict(items(task, synthetic, "all").select("issue_id", "primary").rows())
    system = [said[i] for i, _, _ in kept]
    assert rater.n == len(kept)
    assert rater.system_rater_1.value == pytest.approx(cohen_kappa_score(system, [a for _, a, _ in kept]))
    assert rater.system_rater_2.value == pytest.approx(cohen_kappa_score(system, [b for _, _, b in kept]))
    assert rater.raters.value == pytest.approx(cohen_kappa_score([a for _, a, _ in kept], [b for _, _, b in kept]))
    assert rater.system_gold.value == pytest.approx(cohen_kappa_score(system, [primary[i] for i, _, _ in kept]))
    for kappa in (rater.system_rater_1, rater.raters):
        assert kappa.low <= kappa.value <= kappa.high
    assert rater.verdict in (
        "agrees with either analyst less than they agree with each other",
        "agrees with one analyst about as well as they agree with each other, with the other less",
        "within the raters' interval: agrees with each analyst about as well as they agree with each other",
        "agrees with each analyst more than the analysts agree with each other")


def test_cohen_kappa_matches_scikit_learn_on_random_ratings() -> None:
    from sklearn.metrics import cohen_kappa_score

    chance = random.Random(7)
    for _ in range(50):
        n = chance.randint(2, 40)
        a = [chance.choice("abcd") for _ in range(n)]
        b = [chance.choice("abce") for _ in range(n)]
        expected = cohen_kappa_score(a, b)
        assert (math.isnan(cohen_kappa(a, b)) and math.isnan(expected)) or cohen_kappa(a, b) == pytest.approx(
            expected)
    assert math.isnan(cohen_kappa(["x", "x"], ["x", "x"])), "no chance to correct for: undefined, as scikit-learn"


def test_krippendorff_alpha_of_a_hand_worked_case() -> None:
    # Two raters, four items: (a, a), (a, b), (b, b), (b, b). Coincidences: o_aa 2, o_ab = o_ba 1, o_bb 4; n_a 3,
    # n_b 5, n 8; alpha = 1 - (n - 1) * (o_ab + o_ba) / (2 * n_a * n_b) = 1 - 7 * 2 / 30 = 8 / 15.
    assert krippendorff_alpha([("a", "a"), ("a", "b"), ("b", "b"), ("b", "b")]) == pytest.approx(8 / 15)
    # A missing value leaves its item unpairable (same answer), and perfect agreement is 1.
    assert krippendorff_alpha([("a", "a"), ("a", "b"), ("b", "b"), ("b", "b"), ("a", None)]) == pytest.approx(8 / 15)
    assert krippendorff_alpha([("a", "a", "a"), ("b", "b", None)]) == 1.0
    # Three raters on (a, a, b) and on (b, b, b): six ordered pairs per item, each weighed 1 / 2: o_aa 1,
    # o_ab = o_ba 1, o_bb 3; n_a 2, n_b 4, n 6: alpha = 1 - 5 * 2 / 16 = 3 / 8.
    assert krippendorff_alpha([("a", "a", "b"), ("b", "b", "b")]) == pytest.approx(3 / 8)


def test_the_verdict_judges_only_the_study_columns_and_refuses_what_it_cannot_judge(synthetic) -> None:
    assert {t.name for t in api.tasks() if judged(t)} == set(STUDY)
    with pytest.raises(CvreengError, match="judges the study's labeled columns"):
        api.verdict(api.baseline("majority", "bug_kind", release=synthetic), "bug_kind", synthetic)
    half = gold_predictions(synthetic, "impact").head(10)
    with pytest.raises(PredictionError, match="have no prediction"):
        api.verdict(half, "impact", synthetic)
    judged_ = api.verdict(half, "impact", synthetic, allow_missing=True, n_resamples=0)
    assert judged_.relabeled == judged_.n_issues - 10, "a missing label is a wrong one"
    assert any(c.figure == "Fig. 9" for c in judged_.claims)
    outside = gold_predictions(synthetic, "impact").with_columns(pl.lit("Crash; Hang").alias("label"))
    with pytest.raises(PredictionError, match="several labels"):
        api.verdict(outside, "impact", synthetic)


def test_an_abstention_is_drawn_as_no_label(synthetic) -> None:
    frame = gold_predictions(synthetic, "impact")
    issue = frame["issue_id"][0]
    predictions = from_frame(frame.with_columns(
        pl.when(pl.col("issue_id") == issue).then(None).otherwise(pl.col("label")).alias("label"),
        (pl.col("issue_id") == issue).alias("abstained")), "abstains once")
    shown = api.rq("fig9", synthetic, labels=predictions.frame)
    assert NO_LABEL in shown["impact"].to_list()


def test_rq_with_labels_prints_the_figure_beside_the_paper_and_refuses_figures_that_do_not_read_it(
        synthetic_release: Path, tmp_path: Path) -> None:
    preds = tmp_path / "majority.csv"
    api.baseline("majority", "root_cause", release=synthetic_release, out=preds)
    out = cli("rq", "fig10", "--labels", str(preds), "--release", str(synthetic_release))
    assert out.returncode == 0, out.stderr
    assert "system_percent" in out.stdout and "largest change of a cell's share" in out.stdout
    out = cli("rq", "shares", "--labels", str(preds), "--task", "root_cause", "--release", str(synthetic_release),
              "--format", "json")
    rows = json.loads(out.stdout)
    assert len(rows) == 35 and {"survives", "system_percent"} <= set(rows[0])
    out = cli("rq", "fig5", "--labels", str(preds), "--task", "root_cause", "--release", str(synthetic_release))
    assert out.returncode == 2 and "fig5 does not read root_cause" in out.stderr
    chart = tmp_path / "figs" / "sys.svg"
    chart.parent.mkdir()
    out = cli("rq", "all", "--labels", str(preds), "--task", "root_cause", "--release", str(synthetic_release),
              "--chart", str(chart))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "figs" / "sys_fig10.svg").is_file()
    out = cli("rq", "fig9", "--task", "impact", "--release", str(synthetic_release))
    assert out.returncode == 2 and "--labels" in out.stderr


def test_labels_that_fit_several_tasks_must_name_one(synthetic_release: Path, tmp_path: Path) -> None:
    # "Low frequency type" alone is a label of impact and of root_cause.
    preds = tmp_path / "rare.csv"
    ids = items(get("impact"), api.open_release(synthetic_release), "all")["issue_id"].to_list()
    pl.DataFrame({"issue_id": ids, "label": ["Low frequency type"] * len(ids)}).write_csv(preds)
    out = cli("rq", "shares", "--labels", str(preds), "--release", str(synthetic_release))
    assert out.returncode == 2 and "name the task" in out.stderr and "impact" in out.stderr
    out = cli("rq", "fig9", "--labels", str(preds), "--release", str(synthetic_release))
    assert out.returncode == 0 and "system_percent" in out.stdout, "a figure reads one of them: impact"


def test_evaluate_prints_the_verdict_for_out_of_fold_study_labels_only(synthetic_release: Path,
                                                                        tmp_path: Path) -> None:
    preds = tmp_path / "meta.csv"
    api.baseline("metadata", "impact", release=synthetic_release, out=preds)
    out = cli("evaluate", str(preds), "--task", "impact", "--release", str(synthetic_release), "--resamples", "50")
    assert out.returncode == 0, out.stderr
    assert "annotator verdict on impact@v3" in out.stdout and "as a third rater" in out.stdout
    out = cli("evaluate", str(preds), "--task", "impact", "--release", str(synthetic_release), "--resamples", "50",
              "--format", "json")
    verdict = json.loads(out.stdout)["verdict"]
    assert verdict["third_rater"]["n"] > 0 and {f["figure"] for f in verdict["figures"]} == {"fig9"}
    out = cli("evaluate", str(preds), "--task", "impact", "--release", str(synthetic_release), "--split", "holdout",
              "--resamples", "50")
    assert out.returncode == 0 and "annotator verdict" not in out.stdout


def test_the_report_draws_the_systems_figures_beside_the_papers(synthetic_release: Path, tmp_path: Path) -> None:
    preds = tmp_path / "stage.csv"
    api.baseline("majority", "stage", release=synthetic_release, out=preds)
    out = cli("report", "--out", str(tmp_path / "r"), "--labels", str(preds), "--release", str(synthetic_release))
    assert out.returncode == 0, out.stderr
    page = (tmp_path / "r" / "report.html").read_text("utf-8")
    assert page.count("The same figure from the labels of stage.csv") == sum(
        "stage" in q.axes for q in FIGURES) == 4
    assert "survives" in page
