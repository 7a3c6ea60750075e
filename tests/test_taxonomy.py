"""The taxonomy table is consistent: one spelling per label, unambiguous aliases, stages where Table 7 has them."""

from __future__ import annotations

import pytest

from cvreeng_bench import taxonomy


def test_labels_are_unique_within_each_dimension() -> None:
    for dimension in taxonomy.dimension_names():
        names = taxonomy.labels(dimension)
        assert len(names) == len(set(names)), dimension


def test_every_alias_maps_to_exactly_one_label_and_labels_map_to_themselves() -> None:
    for entry in taxonomy.LABELS:
        assert taxonomy.canonical(entry.dimension, entry.label) == entry.label
        for alias in entry.aliases:
            assert taxonomy.canonical(entry.dimension, alias) == entry.label


def test_matching_ignores_case_spacing_and_dash_variants() -> None:
    assert taxonomy.canonical("impact", "  bad performance (lower  ACCURACY) ") == "Accuracy below expectations"
    assert taxonomy.canonical("impact", "Bad Performance(Accuracy)") == "Accuracy below expectations"
    assert taxonomy.canonical("root_cause", "GPU usage bug\xa0 ") == "GPU usage bug"
    assert taxonomy.canonical("same_data", "no ") == "No"


def test_missing_values_map_to_none_and_unknown_values_raise() -> None:
    assert taxonomy.canonical("stage", "N/A") is None
    with pytest.raises(KeyError):
        taxonomy.canonical("impact", "Explodes")


def test_the_paper_names_are_the_canonical_spellings() -> None:
    assert taxonomy.canonical("impact", "Numerical Instability") == "Numerical error"
    assert taxonomy.canonical("defect_type", "Data structure") == "Data"
    assert taxonomy.canonical("framework", "pytorch") == "PyTorch"
    assert taxonomy.canonical("stage", "Data Pipeline") == "Data pipeline"
    assert taxonomy.LOW_FREQUENCY in taxonomy.labels("root_cause")


def test_every_stage_bound_root_cause_names_a_real_stage() -> None:
    for entry in taxonomy.LABELS:
        if entry.dimension == "root_cause" and entry.stage is not None:
            assert entry.stage in taxonomy.STAGES
    assert taxonomy.root_cause_stage("API defect") == "Environment"
    assert taxonomy.root_cause_stage("Insufficient/incorrect documentation") is None


def test_every_label_has_a_definition_and_a_source() -> None:
    for entry in taxonomy.LABELS:
        assert len(entry.definition) > 5 and entry.source, entry


def test_an_unknown_dimension_is_named_in_the_error() -> None:
    with pytest.raises(KeyError, match="severity"):
        taxonomy.labels("severity")
