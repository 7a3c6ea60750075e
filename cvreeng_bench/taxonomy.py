"""The defect taxonomy of Jiang et al. (EMSE 2024), declared once as data.

Every canonical label is one frozen :class:`Label` row: its dimension, its one spelling, the upstream
spellings (aliases) that map to it, the DL stage it belongs to (root causes only, after the paper's
Table 7) and a definition written for this project. Normalizing, validating, the data card, the
``taxonomy`` config and the charts all read this table; nothing else lists labels.

Matching is forgiving about case, surrounding and repeated white space, non-breaking spaces and dash
variants (``key``); anything beyond that must be an explicit alias here.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

STAGES = ("Environment", "Data pipeline", "Modeling", "Training")


@dataclass(frozen=True)
class Label:
    dimension: str
    label: str
    definition: str
    aliases: tuple[str, ...] = ()
    stage: str | None = None  # the DL stage a root cause belongs to (paper, Table 7)
    source: str = ""  # where the paper defines it; "upstream" for labels only the data uses


@dataclass(frozen=True)
class Dimension:
    name: str
    title: str  # chart and card title
    source: str
    description: str
    column: str  # the description of the ``defects`` column holding it
    classifies: bool = False  # a dimension a defect is classified by (a benchmark task), not context


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("stage", "DL stage", "Sec. 5.1.3",
              "The part of the deep-learning pipeline in which the defect sits.", "DL stage", True),
    Dimension("defect_type", "Defect type", "Table 6",
              "The general programming-error class of the defect, independent of deep learning.", "Defect type",
              True),
    Dimension("impact", "Impact", "Table 5", "The observable effect (symptom) the defect has.", "Impact", True),
    Dimension("root_cause", "Root cause", "Table 7", "The deep-learning-specific reason behind the defect.",
              "Root cause", True),
    Dimension("manifestation", "Manifestation", "Table 2",
              "How the defect shows up during reengineering: runnability and the data used.", "Manifestation",
              True),
    Dimension("reporter", "Reporter type", "Table 1", "The reengineering activity of whoever reported it.",
              "Reporter type", True),
    Dimension("project_type", "Project type", "Sec. 4.2", "Where in the reuse chain the defect was found.",
              "Project type where the defect was found"),
    Dimension("repo_type", "Repository type", "Sec. 4.3", "Whether the studied repository holds one model or many.",
              "Repository type"),
    Dimension("framework", "Framework", "Table 4", "The deep-learning framework the studied code is written for.",
              "DL framework"),
    Dimension("same_code", "Same code?", "Table 1", "Whether the reporter ran the upstream code unchanged.",
              "Did the reporter use the upstream code?"),
    Dimension("same_data", "Same data?", "Table 1", "Whether the reporter used the upstream dataset.",
              "Did the reporter use the upstream data?"),
)
# The dimensions a defect is classified by (the RQ dimensions and the reporter type): one task each.
CLASSIFIED: tuple[str, ...] = tuple(d.name for d in DIMENSIONS if d.classifies)
# The dimensions the two raters labeled independently, in the agreement workbook's column order.
ANNOTATED: tuple[str, ...] = ("framework", "same_code", "same_data", "stage", "impact", "defect_type", "root_cause",
                              "manifestation")

LOW_FREQUENCY = "Low frequency type"
_LOW_FREQ_DEF = (
    "Upstream's bucket for categories with fewer than five defects; the finer label is not in the "
    "artifact, so it is kept as its own label rather than guessed."
)


def _answers(dimension: str, subject: str) -> tuple[Label, ...]:
    return (
        Label(dimension, "Yes", f"The reporter states that the {subject} is the upstream one.",
              ("yes", "Yess", "assume yes", "same data" if subject == "dataset" else "same code"), source="Table 1"),
        Label(dimension, "No", f"The reporter changed or replaced the {subject}.", ("no",), source="Table 1"),
        Label(dimension, "Not mentioned", f"The issue does not say whether the {subject} is the upstream one.",
              ("Not Specified",), source="Table 1"),
    )


LABELS: tuple[Label, ...] = (
    # --- DL stage -------------------------------------------------------------------------------
    Label("stage", "Environment", "Setting up what the model runs on: frameworks, libraries, drivers, "
          "hardware and the project's own install.", source="Sec. 5.1.3"),
    Label("stage", "Data pipeline", "Getting data into the model: loading, annotation formats, "
          "preprocessing and augmentation.", ("Data Pipeline",), source="Sec. 5.1.3"),
    Label("stage", "Modeling", "Defining, loading, converting or saving the network and its weights.",
          source="Sec. 5.1.3"),
    Label("stage", "Training", "Fitting and evaluating the model: scripts, schedules, losses, metrics.",
          source="Sec. 5.1.3"),
    # --- Defect type (Seaman et al. + Thung et al.) ---------------------------------------------
    Label("defect_type", "Algorithm/method", "The steps of a computation are wrong: a miscomputed value, "
          "a mis-implemented algorithm or the wrong function for the job.", source="Table 6"),
    Label("defect_type", "Assignment/initialization", "A value is set wrongly or never set up, including "
          "badly initialized resources such as files.", ("Initialization", "Assignment"), source="Table 6"),
    Label("defect_type", "Checking", "A failure condition is not checked for, or is handled the wrong way.",
          source="Table 6"),
    Label("defect_type", "Data", "A data item or structure is defined or manipulated wrongly (types, "
          "conversions, containers, allocation).", ("Data structure",), source="Table 6"),
    Label("defect_type", "External interface", "A fault where the code meets the user or another system, "
          "such as a library API.", ("External",), source="Table 6"),
    Label("defect_type", "Internal interface", "A fault between the project's own components, including "
          "how it opens, reads or writes its files and datasets.", ("Internal",), source="Table 6"),
    Label("defect_type", "Logic", "A wrong condition, boundary or expression.", source="Table 6"),
    Label("defect_type", "Timing/optimization", "A fault that makes the code slow or badly optimized.",
          source="Table 6"),
    Label("defect_type", "Non-functional defects", "A non-functional requirement is missed: portability, "
          "performance limits, standards or the readability of code and design.", source="Table 6"),
    Label("defect_type", "Configuration", "A fault in something other than code, such as a config file, "
          "that changes behaviour.", source="Table 6"),
    Label("defect_type", "Other", "A defect type none of the categories above describes.", source="Table 6"),
    Label("defect_type", "Memory exhaustion", "Used by upstream as a defect type for running out of memory; "
          "not one of the paper's Table 6 categories.", source="upstream"),
    Label("defect_type", "Syntax error", "Used by upstream for code that does not parse; not one of the "
          "paper's Table 6 categories.", source="upstream"),
    # --- Impact (Islam et al., Zhang et al., Wardat et al.) --------------------------------------
    Label("impact", "Crash", "The program stops with an error.", source="Table 5"),
    Label("impact", "Accuracy below expectations", "It runs, but the measured accuracy falls short of what "
          "was expected.", ("Bad Performance (lower accuracy)", "Bad Performance (Low Accuracy)",
                            "Bad Performance (accuracy)", "Bad Performance(Accuracy)", "bad perfomance (accuracy)"),
          source="Table 5"),
    Label("impact", "Speed below expectations", "It runs, but training or inference takes longer than "
          "expected.", ("Bad Performance (lower speed)", "Bad Performance (Low Speed)",
                        "Bad Performance (speed)"), source="Table 5"),
    Label("impact", "Numerical error", "Values turn into NaN, infinity or zero, overflow, or differ from "
          "run to run.", ("Numerical Instability",), source="Table 5"),
    Label("impact", "Data corruption", "Data is damaged on its way through the model and the outputs are "
          "wrong.", source="Table 5"),
    Label("impact", "Hang", "The program stops responding.", source="Table 5"),
    Label("impact", "Incorrect functionality", "The program misbehaves without raising any error or "
          "warning.", source="Table 5"),
    Label("impact", "Memory exhaustion", "The program stops because memory runs out, from the model's size "
          "or from too little hardware.", source="Table 5"),
    Label("impact", "Other", "An impact none of the categories above describes.", source="Table 5"),
    Label("impact", LOW_FREQUENCY, _LOW_FREQ_DEF, source="upstream"),
    # --- Root cause (Humbatova et al., by stage) --------------------------------------------------
    Label("root_cause", "Data preprocessing", "Input is not formatted or cleaned properly before it reaches "
          "the model.", ("Data preprocessing bugs",), "Data pipeline", "Table 7"),
    Label("root_cause", "Corrupt data", "Input reaches the model with the wrong type or shape (a data-flow "
          "fault).", (), "Data pipeline", "Table 7"),
    Label("root_cause", "Training data quality", "The training data itself is poor: labels, noise, outliers, "
          "too little of it.", (), "Data pipeline", "Table 7"),
    Label("root_cause", "Activation function", "A neuron activation is chosen wrongly.", (), "Modeling",
          "Table 7"),
    Label("root_cause", "Layer properties", "A layer's own settings are wrong (shapes, sizes, unit counts).",
          (), "Modeling", "Table 7"),
    Label("root_cause", "Missing/redundant/wrong layer", "A layer must be added, removed or swapped.", (),
          "Modeling", "Table 7"),
    Label("root_cause", "Model/weight", "Models or pretrained weights are initialized, loaded, converted or "
          "saved wrongly.", (), "Modeling", "Fig. 10"),
    Label("root_cause", "Network structure", "The network's architecture as a whole is wrong.", (),
          "Modeling", "Fig. 10"),
    Label("root_cause", "Optimizer", "An unsuitable optimizer is used.", (), "Training", "Table 7"),
    Label("root_cause", "Loss function", "The loss is the wrong one or is computed wrongly.", (), "Training",
          "Table 7"),
    Label("root_cause", "Evaluation", "Testing or validation is done wrongly, e.g. with an unfit metric.", (),
          "Training", "Table 7"),
    Label("root_cause", "Hyper-parameters", "Learning rate, batch size, epochs or similar are tuned badly.",
          ("Hyperparameters",), "Training", "Table 7"),
    Label("root_cause", "Training configuration", "The training scripts or their settings (other than "
          "hyper-parameters) are wrong.", ("Training configurations",), "Training", "Table 7"),
    Label("root_cause", "Other training process", "Another fault in training, such as memory handling or "
          "post-processing of outputs.", (), "Training", "Table 7"),
    Label("root_cause", "API defect", "A library API is misused, mismatched or has changed.",
          ("API defects",), "Environment", "Table 7"),
    Label("root_cause", "GPU usage bug", "GPUs are used wrongly: wrong device, broken parallelism, bad "
          "transfers or shared state.", (), "Environment", "Table 7"),
    Label("root_cause", "Wrong environment configuration", "Another environment setting is wrong (operating "
          "system, paths, internal set-up).", (), "Environment", "Table 7"),
    Label("root_cause", "Insufficient/incorrect documentation", "The instructions are missing, wrong or "
          "misread.", (), None, "Table 7"),
    Label("root_cause", LOW_FREQUENCY, _LOW_FREQ_DEF, source="upstream"),
    # --- Manifestation ----------------------------------------------------------------------------
    Label("manifestation", "Basic defects", "The code does not run properly at all: it crashes, goes badly "
          "wrong or runs out of memory.", (), source="Table 2"),
    Label("manifestation", "Reproducibility defects", "With the same data the code runs, yet misses the "
          "documented results (accuracy, latency).", (), source="Table 2"),
    Label("manifestation", "Evolutionary defects", "After the code or data was changed for the user's needs, "
          "it runs but misses the wanted behaviour or results.", (), source="Table 2"),
    # --- Reporter ---------------------------------------------------------------------------------
    Label("reporter", "Re-user", "Runs the upstream code on the upstream data: plain reuse.", (),
          source="Table 1"),
    Label("reporter", "Adaptor", "Takes the code to another task or dataset and meets a mismatch with what "
          "was expected.", (), source="Table 1"),
    Label("reporter", "Enhancer", "Extends the model, e.g. new layers, tuned hyper-parameters, multi-GPU "
          "training.", (), source="Table 1"),
    Label("reporter", "Replicator", "Re-implements the same algorithm, data and configuration in separate "
          "code, e.g. in another framework.", (), source="Table 1"),
    # --- Project type -----------------------------------------------------------------------------
    Label("project_type", "Research prototype", "The original implementation of a model.",
          ("Research Prototype",), source="Sec. 4.2"),
    Label("project_type", "Replication", "A re-implementation of a prototype, possibly extended.",
          ("Major replication",), source="Sec. 4.2"),
    Label("project_type", 'User "fork"', "A user's fork, clone or copy that reuses or extends one of the two "
          "above.", (), source="Sec. 4.2"),
    # --- Repository type --------------------------------------------------------------------------
    Label("repo_type", "Solo", "A repository implementing a single model: a prototype or a replication.",
          ("Solo Repository",), source="Sec. 4.3"),
    Label("repo_type", "Zoo", "A repository collecting implementations of many models.", ("Zoo Repository",),
          source="Sec. 4.3"),
    # --- Framework --------------------------------------------------------------------------------
    Label("framework", "PyTorch", "PyTorch.", (), source="Table 4"),
    Label("framework", "TensorFlow", "TensorFlow.", (), source="Table 4"),
    Label("framework", "Keras", "Keras.", (), source="Table 4"),
    Label("framework", "Caffe", "Caffe.", (), source="Table 4"),
    Label("framework", "Caffe2", "Caffe2.", (), source="Table 4"),
    Label("framework", "MXNet", "Apache MXNet.", (), source="Table 4"),
    Label("framework", "Torch (Lua)", "Torch7, written in Lua; upstream records the language, 'Lua'.",
          ("Lua",), source="Table 4"),
    *_answers("same_code", "code"),
    *_answers("same_data", "dataset"),
)

# Which (same code, same data) answers contradict a reporter type (Table 1). "Not mentioned" never does.
REPORTER_CONTRADICTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "Re-user": (("same_code", "No"), ("same_data", "No")),
    "Adaptor": (("same_data", "Yes"),),
    "Replicator": (("same_code", "Yes"), ("same_data", "No")),
    "Enhancer": (),
}

# Spellings that mean "no value" in the hand-made files.
MISSING = frozenset({"", "n/a", "na", "none", "null", "not applicable"})

_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_SPACE = re.compile(r"\s+")


@functools.lru_cache(maxsize=4096)  # a build asks for about 15,000 keys of a few hundred distinct strings
def key(value: str) -> str:
    """The matching key of a raw label: case-folded, NFKC, dashes unified, white space collapsed."""
    text = unicodedata.normalize("NFKC", value)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\t\n")
    # Excel stores a control character in cell text as an escape ("_x0008_" is a backspace) that openpyxl
    # hands back undecoded; one rater's cell carries it.
    text = _DASHES.sub("-", text).replace("_x0008_", "")
    text = _SPACE.sub(" ", text).strip().strip("'\"").strip()
    text = re.sub(r"\s*([-/(])\s*", r"\1", text)  # "API –DL" == "API-DL", "Bad Performance (x)" == "(x)"
    return text.casefold()


def dimension_names() -> tuple[str, ...]:
    return tuple(d.name for d in DIMENSIONS)


def dimension(name: str) -> Dimension:
    for entry in DIMENSIONS:
        if entry.name == name:
            return entry
    raise KeyError(f"unknown dimension {name!r}; known: {', '.join(dimension_names())}")


def labels(dimension: str) -> tuple[str, ...]:
    """Canonical labels of one dimension, in declaration order."""
    if dimension not in dimension_names():
        raise KeyError(f"unknown dimension {dimension!r}; known: {', '.join(dimension_names())}")
    return tuple(entry.label for entry in LABELS if entry.dimension == dimension)


@cache
def _alias_map(dimension: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for entry in LABELS:
        if entry.dimension != dimension:
            continue
        for spelling in (entry.label, *entry.aliases):
            previous = mapping.setdefault(key(spelling), entry.label)
            if previous != entry.label:  # a declaration error, caught by the test suite
                raise ValueError(f"{dimension}: {spelling!r} maps to both {previous!r} and {entry.label!r}")
    return mapping


def canonical(dimension: str, raw: str | None) -> str | None:
    """The canonical label for a raw value; None when it is missing. Raises KeyError when unknown."""
    if raw is None or key(raw) in MISSING:
        return None
    found = _alias_map(dimension).get(key(raw))
    if found is None:
        raise KeyError(raw)
    return found


def lookup(dimension: str, label: str) -> Label:
    for entry in LABELS:
        if entry.dimension == dimension and entry.label == label:
            return entry
    raise KeyError(f"{label!r} is not a {dimension} label")


def root_cause_stage(root_cause: str | None) -> str | None:
    return None if root_cause is None else lookup("root_cause", root_cause).stage
