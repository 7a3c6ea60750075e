"""The chi-square test and Cramér's V against values with a known answer."""

from __future__ import annotations

import math

import pytest

from cvreeng_bench.stats import chi2_sf, chi_square


@pytest.mark.parametrize(("statistic", "dof"), [(3.841459, 1), (5.991465, 2), (18.307038, 10), (43.772972, 30)])
def test_the_tail_probability_at_the_tabulated_5_percent_critical_values(statistic: float, dof: int) -> None:
    assert chi2_sf(statistic, dof) == pytest.approx(0.05, abs=1e-6)


def test_a_two_by_two_table_by_hand() -> None:
    # expected 15 in every cell: chi2 = 4 * 5^2 / 15 = 20/3; V = sqrt(chi2 / n) for a 2x2 table
    result = chi_square([[10, 20], [20, 10]])
    assert result.statistic == pytest.approx(20 / 3)
    assert result.dof == 1
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(20 / 3 / 2)))  # chi2(1) tail = erfc(sqrt(x/2))
    assert result.cramers_v == pytest.approx(math.sqrt(20 / 3 / 60))
    assert result.reliable


def test_agrees_with_scipy_on_a_larger_table() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    table = [[12, 5, 30, 2], [7, 14, 9, 8], [20, 3, 11, 6]]
    expected = scipy_stats.chi2_contingency(table, correction=False)
    result = chi_square(table)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)
    assert result.dof == expected.dof


def test_independent_counts_give_zero_and_sparse_tables_are_flagged() -> None:
    assert chi_square([[10, 20], [20, 40]]).statistic == pytest.approx(0)
    sparse = chi_square([[1, 0, 3], [0, 2, 1]])
    assert not sparse.reliable and "unreliable" in sparse.note()


def test_empty_rows_and_columns_are_dropped_before_testing() -> None:
    assert chi_square([[10, 20, 0], [20, 10, 0], [0, 0, 0]]).statistic == pytest.approx(20 / 3)
