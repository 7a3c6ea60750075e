"""Render the data cards (data_cards/*.md templates) with a release's real counts.

Templates use ``${name}`` placeholders; an unknown placeholder is an error, so a card can never ship
with a hole in it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from string import Template
from typing import TYPE_CHECKING, Any

from .. import paper, taxonomy
from ..layout import SPLIT
from ..resources import resource_dir
from ..schema import SCHEMAS, Column
from . import sources

if TYPE_CHECKING:
    import polars as pl

DEFAULT_CONFIG = "defects"


def data_files(info: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """config -> split -> data file, as a manifest lists them (what the card's header must say)."""
    files = {name: {SPLIT: meta["path"]} for name, meta in info["configs"].items()}
    files.update({name: dict(meta["files"]) for name, meta in info.get("task_configs", {}).items()})
    return files


def front_matter(info: dict[str, Any]) -> str:
    """The Hub's YAML header (huggingface_hub's own card data): one config per table (one train split) and
    one per benchmark task (train and test splits)."""
    from huggingface_hub import DatasetCardData

    files = data_files(info)
    entries = []
    for name in sorted(files, key=lambda c: (c != DEFAULT_CONFIG, c)):
        entry: dict[str, Any] = {"config_name": name, "data_files": [{"split": split, "path": path}
                                                                      for split, path in files[name].items()]}
        if name == DEFAULT_CONFIG:
            entry["default"] = True
        entries.append(entry)
    features = [{"config_name": name, "features": [_feature(c) for c in SCHEMAS[name]]}
                for name in sorted(info["configs"]) if name in SCHEMAS]
    tasks = sorted(info.get("task_configs", {}).items())
    features += [{"config_name": name, "features": [{"name": column, **_yaml_feature(kind)}
                                                    for column, kind in meta["features"].items()]}
                 for name, meta in tasks if isinstance(meta.get("features"), dict)]
    features.sort(key=lambda f: f["config_name"])
    data = DatasetCardData(
        pretty_name="CV model-reengineering defects (Jiang et al., EMSE 2024)", license="other",
        license_name="cite-the-paper", license_link=f"https://doi.org/{paper.DOI}", language=["en"],
        task_categories=["text-classification"],
        tags=["software-engineering", "deep-learning", "defects", "computer-vision"], size_categories=["n<1K"],
        configs=entries, dataset_info=features)
    return f"---\n{data.to_yaml()}\n---\n"


_HF_TYPES = {"string": "string", "int32": "int32", "int64": "int64", "float64": "float64", "bool": "bool",
             "timestamp": "timestamp[us, tz=UTC]"}


def _class_names(column: Column) -> list[str] | None:
    """The labels of a column that holds a declared label set (a taxonomy dimension, or the posts' classes)."""
    if column.dimension is not None:
        return list(taxonomy.labels(column.dimension))
    return list(column.classes) or None


def _feature(column: Column) -> dict[str, Any]:
    """A column as the Hub's ``dataset_info`` declares it: a label column as a ClassLabel (a list of labels
    as a sequence of ClassLabel), so ``datasets`` users get the label names with the data."""
    names = _class_names(column)
    inner = column.type[5:-1] if column.type.startswith("list<") else column.type
    kind: Any = ({"class_label": {"names": {str(i): n for i, n in enumerate(names)}}} if names
                 else _HF_TYPES[inner])
    if column.type.startswith("list<"):
        return {"name": column.name, "sequence": kind}
    return {"name": column.name, "dtype": kind}


def _yaml_feature(kind: dict[str, Any]) -> dict[str, Any]:
    """A ``datasets`` feature (Value, List, ClassLabel, as a task config's parquet metadata holds it) as the card's
    ``dataset_info`` writes it."""
    if kind["_type"] == "List":
        inner = _yaml_feature(kind["feature"])
        return {"sequence": inner["dtype"]}
    if kind["_type"] == "ClassLabel":
        return {"dtype": {"class_label": {"names": {str(i): n for i, n in enumerate(kind["names"])}}}}
    return {"dtype": kind["dtype"]}


def _counts_table(frame: pl.DataFrame, column: str, total: int) -> str:
    import polars as pl

    counts = frame.group_by(column).len().sort(["len", column], descending=[True, False])
    rows = [f"| {value} | {n} | {100 * n / total:.1f}% |" for value, n in counts.select(
        pl.col(column).fill_null("(none)"), "len").rows()]
    return "\n".join([f"| {column} | defects | share |", "|---|---:|---:|", *rows])


def _schema_table(config: str) -> str:
    rows = [f"| `{c.name}` | {c.type}{' (ClassLabel in `datasets`)' if _class_names(c) else ''} | {c.description} |"
            for c in SCHEMAS[config] if not c.name.startswith("raw_")]
    raw = [c.name for c in SCHEMAS[config] if c.name.startswith("raw_")]
    if raw:
        rows.append(f"| `raw_*` | string | Upstream's own strings: {', '.join(f'`{r}`' for r in raw)} |")
    return "\n".join(["| column | type | meaning |", "|---|---|---|", *rows])


def taxonomy_markdown() -> str:
    parts = []
    for dimension in taxonomy.DIMENSIONS:
        parts.append(f"### {dimension.title} (`{dimension.name}`, paper {dimension.source})\n\n"
                     f"{dimension.description}\n")
        has_stage = dimension.name == "root_cause"
        head = "| label | stage | definition | upstream spellings |" if has_stage else \
            "| label | definition | upstream spellings |"
        parts.append(head)
        parts.append("|---|---|---|---|" if has_stage else "|---|---|---|")
        for entry in taxonomy.LABELS:
            if entry.dimension != dimension.name:
                continue
            aliases = ", ".join(f"`{a}`" for a in entry.aliases) or ""
            stage = f" {entry.stage or '(none)'} |" if has_stage else ""
            parts.append(f"| {entry.label} |{stage} {entry.definition} | {aliases} |")
        parts.append("")
    return "\n".join(parts)


def _text_section(tables: dict[str, pl.DataFrame]) -> str:
    texts = tables.get("issue_texts")
    if texts is None:
        return ("This release carries no issue texts. `cvreeng-bench hydrate` fetches them from the GitHub API "
                "and `cvreeng-bench build --with-text CACHE` adds them as the `issue_texts` config.")
    taken = texts["snapshot_at"].max()
    ok = texts.filter(texts["status"] == "ok").height
    return (f"The `issue_texts` config holds a snapshot of {ok} of {texts.height} issue threads (title, body, "
            f"comments) taken from the GitHub API on {taken!s:.10} (UTC); the others were deleted or hidden "
            "by then. The texts belong to their authors and are redistributed under GitHub's terms of service "
            "for research use; e-mail addresses and access tokens were replaced by `<email>` and `<token>` "
            "unless the release says otherwise. Ask for removal of your text by opening an issue.")


def _verified(flag: bool) -> str:
    """What the card says of a source's files: verified against their pinned sha256, or not."""
    return "yes" if flag else "NO: built with --no-verify from a modified copy"


def _so_section(tables: dict[str, pl.DataFrame], info: dict[str, Any]) -> tuple[str, str]:
    """The card's section on the second source and its license line (or why the release lacks it)."""
    from .. import dlbugs

    source = sources.SO_POSTS
    posts = tables.get("so_posts")
    if posts is None:
        why = info.get("sources_absent", {}).get(source.name, "not requested")
        return (f"This release does not carry the second source ({why}). A build from a mirror that holds "
                f"`{source.folder}/{source.commit}/dataset.csv` (or with network access) adds the `so_posts` config "
                "and the `so_dl_bugs` task.", "")
    counts = dict(posts.group_by("label").len().rows())
    kinds = "\n".join(f"| {k.number} | {k.label} | {counts.get(k.label, 0)} | {k.definition} |" for k in dlbugs.KINDS)
    meta = info.get("sources", {}).get(source.name, {})
    verified = _verified(meta.get("verified", True))
    section = "\n".join([
        f"The `so_posts` config holds {posts.height} Stack Overflow questions about Keras, TensorFlow and PyTorch, "
        f"each labeled with one kind of deep-learning bug or `Others` (not a DL bug), from `{source.repository}` "
        f"at `{source.commit}` ({source.date}; files verified: {verified}). How the posts were chosen, in short: "
        f"{dlbugs.HOW_CHOSEN} Texts are title and body as upstream flattened them (code inline, one line); "
        "`tags` is the post's tag list, `url` the post itself. Some posts come from earlier studies' datasets, so "
        "a pretrained model may have seen them.", "",
        "| class | label | posts | definition (this project's wording) |", "|---:|---|---:|---|", kinds, "",
        "The `so_dl_bugs` task is scored out-of-fold over all posts with the same scorer, interval, permutation "
        "test and board as the study's tasks; `bug_kind` maps the study's root causes to these kinds through a "
        "declared crosswalk (`cvreeng_bench.dlbugs.CROSSWALKS`, one per task version; `cvreeng-bench crosswalk` "
        "checks it against data), so one system can be trained on one source and scored on the other "
        "(`cvreeng-bench transfer`).", "",
        "Context: the authors report their own classifiers' results on this set (SOBERT, CodeBERT, RoBERTa, "
        "ChatGPT, Claude, TF-IDF and word2vec) in the `results/` folder of their repository; those files are not "
        "among the pinned inputs, so this card restates none of their numbers. The package's out-of-fold scores "
        "are on the leaderboard.",
    ])
    license_line = (f"Second source: the repository `{source.repository}` is licensed Apache-2.0; the post texts "
                    "come from the Stack Exchange data dump and are licensed CC BY-SA by their authors, each "
                    "attributed by its URL (`https://stackoverflow.com/q/<post_id>`, the `url` column). Cite: "
                    f"{dlbugs.CITATION}.")
    return section, license_line


def _notes_sections(tables: dict[str, pl.DataFrame], info: dict[str, Any]) -> tuple[str, str]:
    """The card's section on the analysts' notes and the datasheet's on their label drift (or why they are absent)."""
    from .notes import DRIFT_COLUMNS, LINK_STATUSES, NOTE_TRACK_MEANINGS, RULE

    source = sources.NOTES
    notes = tables.get("analyst_notes")
    if notes is None:
        why = info.get("sources_absent", {}).get(source.name, "not requested")
        absent = (f"This release does not carry the analysts' notes ({why}). A build from a mirror that holds "
                  f"`{source.folder}/{source.commit}/{source.files[0].path}` (or with network access) adds the "
                  "`analyst_notes` config and the `notes_*` tasks.")
        return absent, absent
    linked = notes.filter(notes["defect_id"].is_not_null())
    statuses = "\n".join(f"| {status} | {notes.filter(notes['link_status'] == status).height} | "
                         f"{notes.filter(notes['link_status'] == status)['issue_id'].n_unique()} |"
                         for status in LINK_STATUSES)
    meta = info.get("sources", {}).get(source.name, {})
    verified = _verified(meta.get("verified", True))
    card = "\n".join([
        f"The `analyst_notes` config holds every defect row ({notes.height}, in {notes['issue_id'].n_unique()} "
        f"issues) of the study's own analysis workbook `{source.files[0].path}` at commit `{source.commit}` "
        f"({source.date}) of `{source.repository}` (files verified: {verified}). The study's analysts wrote three "
        "free-text columns beside their labels while analysing each issue: `bugs` (the symptom, often the issue's "
        "title or its error message), `comments` (what they found, often quoting the thread) and `fix` (how the "
        "defect was fixed), kept as written; the workbook's placeholders for an empty note (N/A, None) are null. "
        "The workbook left the repository on 2022-03-16 and stays public in its history; the same columns are "
        f"in its first commit of {sources.NOTES_PUBLIC_SINCE}, so a model trained on data from that date on may "
        "have seen them. Same terms as the labels (no license file upstream; cite the paper).", "",
        f"Linking to the final defects: {RULE}. Anything else stays unlinked, with the reason:", "",
        "| link status | rows | issues |", "|---|---:|---:|", statuses, "",
        f"The `notes_*` tasks ask for the study's labels of the {linked['issue_id'].n_unique()} linked issues, "
        "out-of-fold, on three tracks: `metadata`: the declared inputs only (no text); "
        + "; ".join(f"`{t}`: {meaning}" for t, meaning in NOTE_TRACK_MEANINGS.items()) + ". "
        "The chance lines and the metadata baseline are scored on the same issues. Screening has no notes for "
        "the issues that are not reengineering defects, so it has no notes task.",
    ])
    rows = []
    for dimension in DRIFT_COLUMNS:
        named = linked.filter(linked[f"{dimension}_2022"].is_not_null())
        changed = int(named["changed"].list.contains(dimension).sum())
        rows.append(f"| {dimension} | {linked.height} | {named.height - changed} | {changed} | "
                    f"{linked.height - named.height} |")
    gone = sorted(notes.filter(notes["link_status"] != "linked")["issue_id"].unique().to_list(), key=str.casefold)
    sheet = "\n".join([
        f"Of the {linked.height} notes linked to a final defect, how the 2022 label compares with the final one "
        "(`stage` from the 2022 column 'Part of Implementation'; 'older category': the 2022 value names no final "
        "label, as the instrument was revised after it):", "",
        "| dimension | linked notes | same | changed | older category |", "|---|---:|---:|---:|---:|",
        "\n".join(rows), "",
        f"Issues analysed in the 2022 workbook but not linked ({len(gone)}: not in the final dataset, not a "
        "reengineering defect in it, or holding a different number of defects): "
        + ", ".join(f"`{issue}`" for issue in gone) + ".",
    ])
    return card, sheet


def tasks_section(info: dict[str, Any], tasks: dict[str, Any]) -> str:
    """One paragraph per task config (``tasks``: config name -> Task): what to predict, its splits, how to load
    it, its labels with definitions."""
    if not info.get("task_configs"):
        return "This release has no task configs."
    parts = ["One config per benchmark task (protocol v3), ready to train on: the `train` and `test` sides of "
             "the holdout split (the main split is out-of-fold: the `fold` column gives each issue's fold), only "
             "the task's declared inputs (no annotator-made column), the issue texts when the release has them, "
             "and the gold as class indices in the task's label order (`label`: the first defect's; `labels`: "
             "every label of the issue, any of which counts as correct; `label_text`: the name).", ""]
    for name, meta in sorted(info["task_configs"].items()):
        task = tasks[name]
        labels = "\n".join(f"| {i} | {label} | {task.definition(label)} |" for i, label in enumerate(task.labels))
        parts += [f"### `{name}` ({meta['task']}, {meta['rows']['train']} train / {meta['rows']['test']} test)",
                  "", task.description, "",
                  f"```python\nfrom datasets import load_dataset\ntest = load_dataset(\".\", \"{name}\", "
                  f"split=\"test\")\n```", "", f"Inputs: {', '.join(f'`{c}`' for c in task.inputs)}.", "",
                  "| class | label | definition |", "|---:|---|---|", labels, ""]
    return "\n".join(parts)


def values(tables: dict[str, pl.DataFrame], info: dict[str, Any], tasks: dict[str, Any]) -> dict[str, str]:
    defects, issues = tables["defects"], tables["issues"]
    n = defects.height
    multi = issues.filter(issues["n_defects"] > 1).height
    configs = "\n".join(f"| `{name}` | {meta['rows']} | `{meta['path']}` |"
                        for name, meta in info["configs"].items())
    so_section, so_license = _so_section(tables, info)
    notes_section, notes_drift = _notes_sections(tables, info)
    schemas = "\n\n".join(f"#### `{name}`\n\n{_schema_table(name)}" for name in SCHEMAS if name in tables)
    return {
        "dataset_version": info["dataset_version"],
        "package_version": info["package_version"],
        "content_sha256": info["content_sha256"],
        "upstream_repo": sources.UPSTREAM_REPO,
        "upstream_commit": sources.UPSTREAM_COMMIT,
        "upstream_date": sources.UPSTREAM_DATE,
        "upstream_files": json.dumps(info["upstream"]["files"], indent=2),
        "verified": _verified(info["upstream"]["verified"]),
        "n_defects": str(n),
        "n_issues": str(issues.height),
        "n_reengineering_issues": str(int(issues["is_reengineering"].sum())),
        "n_non_reengineering_issues": str(int((~issues["is_reengineering"]).sum())),
        "n_multi_defect_issues": str(multi),
        "n_repositories": str(tables["repositories"].height),
        "n_annotations": str(tables["annotations"].height),
        "n_withdrawn": str(int(defects["withdrawn"].sum())),
        "configs_table": configs,
        "schemas": schemas,
        "stage_table": _counts_table(defects, "stage", n),
        "manifestation_table": _counts_table(defects, "manifestation", n),
        "taxonomy": taxonomy_markdown(),
        "text_section": _text_section(tables),
        "tasks_section": tasks_section(info, tasks),
        "so_section": so_section,
        "so_license": so_license,
        "notes_section": notes_section,
        "notes_drift": notes_drift,
        "doi": paper.DOI,
        "citation": paper.CITATION,
        "bibtex": paper.BIBTEX,
    }


def render(template: str, mapping: dict[str, str]) -> str:
    return Template(template).substitute(mapping)


def render_cards(tables: dict[str, pl.DataFrame], info: dict[str, Any], tasks: dict[str, Any] | None = None,
                 ) -> dict[str, str]:
    """README.md (the dataset card with the Hub header), DATASHEET.md and TAXONOMY.md of a release."""
    folder = resource_dir("data_cards")
    mapping = values(tables, info, tasks or {})
    return {
        "README.md": front_matter(info) + render((folder / "dataset_card.md").read_text("utf-8"), mapping),
        "DATASHEET.md": render((folder / "datasheet.md").read_text("utf-8"), mapping),
        "TAXONOMY.md": render((folder / "taxonomy_card.md").read_text("utf-8"), mapping),
    }
