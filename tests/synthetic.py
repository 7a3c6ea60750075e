"""A tiny synthetic upstream, laid out like the authors' artifact and written by the tests themselves (never a
copy of it): 96 defects in 90 issues of eight Table 4 repositories, 24 non-reengineering issues and a
three-phase agreement workbook; and a Stack Overflow ``dataset.csv`` of 60 posts, 10 per class, whose texts
mix class words with noise. Every label of every task occurs, so every task, split and baseline runs on it,
and most tests need no real data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cvreeng_bench import taxonomy
from cvreeng_bench.pipeline import sources

REPOS = (("tensorflow/models", "Zoo Repository", "tensorflow"), ("open-mmlab/mmdetection", "Zoo Repository", "pytorch"),
         ("pytorch/vision", "Zoo Repository", "pytorch"), ("facebookresearch/detectron2", "Zoo Repository", "pytorch"),
         ("ultralytics/yolov3", "Solo Repository", "Pytorch"), ("matterport/Mask_RCNN", "Solo Repository", "keras"),
         ("fizyr/keras-retinanet", "Solo Repository", "Keras"), ("xingyizhou/CenterNet", "Solo Repository", "PyTorch"))
N_ISSUES, MULTI, N_OTHERS = 90, 6, 24  # MULTI issues hold a second defect
HEADER = ["", "URL", "Repo owner", "Repo name", "Issue #", "Repo type", "Research Prototype", "Repo creation time",
          "Issue creation time", "Time Slot/d", "Label", "Framework", "Same Code?", "Same Data?", "Impacts",
          "Part of Implementation", "Project Type", "Reporter", "Defect types", "Root Causes", "Manifestation"]
COLUMNS = {"stage": "Part of Implementation", "impact": "Impacts", "defect_type": "Defect types",
           "root_cause": "Root Causes", "manifestation": "Manifestation", "reporter": "Reporter",
           "project_type": "Project Type", "same_code": "Same Code?", "same_data": "Same Data?"}
STEP = {"stage": 1, "impact": 3, "defect_type": 5, "root_cause": 7, "manifestation": 2, "reporter": 3,
        "project_type": 1, "same_code": 2, "same_data": 1}
GITHUB_LABELS = ("['bug']", "['question']", "[]", "['enhancement', 'bug']")


def label(dimension: str, index: int) -> str:
    labels = [x for x in taxonomy.labels(dimension) if x != taxonomy.LOW_FREQUENCY]
    return labels[(index * STEP[dimension] + index // len(labels)) % len(labels)]


def defects() -> list[dict[str, str]]:
    rows, start = [], datetime(2017, 1, 1, tzinfo=UTC)
    for index in range(N_ISSUES + MULTI):
        issue = index if index < N_ISSUES else (index - N_ISSUES) * 7
        repo, kind, framework = REPOS[issue % len(REPOS)]
        created = start + timedelta(days=issue % len(REPOS) * 30)
        opened = datetime(2018, 3, 1, tzinfo=UTC) + timedelta(days=issue * 11)
        owner, name = repo.split("/")
        row = {"": str(index), "URL": f"https://github.com/{repo}/issues/{1000 + issue}", "Repo owner": owner,
               "Repo name": name, "Issue #": str(1000 + issue), "Repo type": kind, "Research Prototype": "No",
               "Repo creation time": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
               "Issue creation time": opened.strftime("%Y-%m-%dT%H:%M:%SZ"),
               "Time Slot/d": f"{(opened - created).days}.0", "Label": GITHUB_LABELS[issue % len(GITHUB_LABELS)],
               "Framework": framework}
        row.update({column: label(dimension, index) for dimension, column in COLUMNS.items()})
        rows.append(row)
    return rows


def others() -> list[list[str]]:
    rows = []
    for index in range(N_OTHERS):
        repo = REPOS[index % len(REPOS)][0]
        owner, name = repo.split("/")
        number = 5000 + index
        # Upstream's columns are shifted against its header: the number twice, the creation time twice.
        opened = datetime(2019, 1, 1, tzinfo=UTC) + timedelta(days=index * 40)
        days = (opened - datetime(2017, 1, 1, tzinfo=UTC)).days
        rows.append([str(index), f"https://github.com/{repo}/issues/{number}", owner, name, str(number), str(number),
                     "No", "2017-01-01T00:00:00Z", "2017-01-01T00:00:00Z", opened.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     str(days)])
    return rows


POST_WORDS = {
    "model": "layer dense conv2d activation architecture sequential weights",
    "tensor": "shape reshape dimension dtype rank mismatch broadcast",
    "training": "loss optimizer epoch learning rate accuracy converge",
    "gpu": "cuda device gpu memory nvidia driver parallel",
    "api": "deprecated attribute version import module removed argument",
    "Others": "php mysql android javascript html server query",
}
NOISE = ["please", "help", "error", "code", "python", "output", "result", "value", "input", "running", "strange"]
POSTS_PER_CLASS = 10


def posts() -> list[list[str]]:
    """Id, Text, Tags, Label, LabelNum rows: three class words and five noise words per post."""
    import random

    from cvreeng_bench.dlbugs import KINDS

    rng, rows = random.Random(17), []
    for kind in KINDS:
        words = POST_WORDS[kind.label].split()
        for index in range(POSTS_PER_CLASS):
            text = " ".join(rng.sample(words, 3) + rng.sample(NOISE, 5))
            tags = "|python|" + ("keras|" if index % 2 else "pytorch|") + (f"{words[0]}|" if index % 3 == 0 else "")
            rows.append([str(40_000_000 + kind.number * 1000 + index), f"Post {index}: {text}.", tags, kind.label,
                         str(kind.number)])
    return rows


def write_posts(root: Path) -> Path:
    """The synthetic second source under ``root`` in the mirror layout."""
    from cvreeng_bench.pipeline.normalize_posts import HEADER as POSTS_HEADER
    from tests.conftest import write_csv

    path = root / sources.SO_POSTS.folder / sources.SO_POSTS.commit / "dataset.csv"
    write_csv(path, list(POSTS_HEADER), posts())
    return path


def write_agreement(path: Path, rows: list[dict[str, str]]) -> None:
    """Both raters on the first 40 issues in every phase; rater 2 is the gold, rater 1 differs on every
    fourth item."""
    import openpyxl

    header = ["Issue #", "Framework", "same code", "same data", "DL Stage", "Impacts", "General Code Error Type",
              "DL Specific Error Type", "Manifestation"]
    book = openpyxl.Workbook()
    book.remove(book.active)
    for prefix in ("Pilot", "Pilot-re", "Final"):
        for rater in (1, 2):
            sheet = book.create_sheet(f"{prefix}{rater}")
            sheet.append(header if prefix != "Final" else [*header[:7], "Root Causes", header[8]])
            for index, row in enumerate(rows[:40]):
                off = rater == 1 and index % 4 == 3
                stage = label("stage", index + 1) if off else row["Part of Implementation"]
                sheet.append([int(row["Issue #"]), row["Framework"], row["Same Code?"], row["Same Data?"], stage,
                              row["Impacts"], row["Defect types"], row["Root Causes"], row["Manifestation"]])
    book.save(path)


NOTED = 60  # the first issues have the analysts' notes (one row per defect)


def notes(rows: list[dict[str, str]]) -> list[list[object]]:
    """The 2022 workbook's rows: one per defect of the first NOTED issues, in issue order, with a symptom that names
    the stage and findings that name the root cause; then the link rule's other cases: issue 1007 (two defects) with
    one row (never linked), an issue the final dataset lacks, a non-reengineering issue, a row without a URL."""
    by_issue: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_issue.setdefault(row["URL"], []).append(row)
    out: list[list[object]] = []
    for position, (url, found) in enumerate(list(by_issue.items())[:NOTED]):
        defects = found[:1] if url.endswith("/1007") else found
        shown = url.replace("tensorflow/models", "TensorFlow/Models") if position == 8 else url  # GitHub's case
        for defect in defects:
            out.append([shown, int(defect["Issue #"]), f"symptom of a {defect['Part of Implementation'].lower()} "
                        f"defect: {' '.join(NOISE[position % 5: position % 5 + 3])}",
                        f"the analyst found {defect['Root Causes'].lower()}" if position % 3 else "N/A",
                        "None" if position % 4 == 0 else "changed the code", "Training",
                        defect["Part of Implementation"], defect["Impacts"], defect["Defect types"],
                        defect["Root Causes"], "Basic errors", defect["Reporter"], defect["Project Type"]])
    out.append(["https://github.com/pytorch/vision/issues/9000", 9000, "gone later", None, None, "Training",
                "Training", "Crash", "Logic", "Optimizer", "Basic errors", "Re-user", 'User "fork"'])
    out.append(["https://github.com/tensorflow/models/issues/5000", 5000, "not a reengineering issue", None, None,
                "Training", "Training", "Crash", "Logic", "Optimizer", "Basic errors", "Re-user", 'User "fork"'])
    out.append([None, None, "a stray note", None, None, None, None, None, None, None, None, None, None])
    return out


def write_notes(root: Path, rows: list[dict[str, str]]) -> Path:
    """The synthetic 2022 analysis workbook under ``root`` in the mirror layout."""
    import openpyxl

    path = root / sources.NOTES.folder / sources.NOTES.commit / sources.NOTES.files[0].path
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    sheet.append(["URL", "Issue #", "Bugs", "Comments", "Fix", "DL Stage", "Part of Implementation", "Impacts",
                  "Defect Type", "Root Cause", "Manifestation", "Reporter", "Project Type"])
    sheet.append([None] * 13)  # an empty row is skipped silently
    for line in notes(rows):
        sheet.append(line)
    book.save(path)
    return path


def write_upstream(root: Path) -> Path:
    """The synthetic artifact under ``root`` in the mirror layout; returns ``root`` (pass it as upstream)."""
    from cvreeng_bench.pipeline.normalize import NON_REENGINEERING_HEADER
    from tests.conftest import write_csv

    folder = root / sources.STUDY.folder / sources.STUDY.commit / "Defect-study"
    rows = defects()
    write_csv(folder / "CV_Reengineeirng_Defects.csv", HEADER, rows)
    write_csv(folder / "Non_Reengineering_Defects.csv", list(NON_REENGINEERING_HEADER), others())
    write_agreement(folder / "Cohen's Kappa Calculation.xlsx", rows)
    write_posts(root)
    write_notes(root, rows)
    return root
