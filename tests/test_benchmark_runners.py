"""The home-care benchmark runner picks the instances it is asked for, and says which it
does not know (skipped without the shared benchmark folder)."""

from __future__ import annotations

import pytest

from benchmarks.hhcrsp import jobs_for
from benchmarks.runner import shared_benchmarks

pytestmark = pytest.mark.skipif(
    not (shared_benchmarks() / "mankowska2014").is_dir(), reason="shared benchmark folder absent"
)


def test_instances_are_picked_by_label_name_or_number() -> None:
    assert len(jobs_for("mankowska", None, 1, 1)) == 70
    assert [j["instance"] for j in jobs_for("mankowska", ["G10", "A1"], 1, 1)] == ["A1", "G10"]
    italian = jobs_for("italian", ["instance_001"], 1, 1)
    assert [j["instance"].split("-")[0] for j in italian] == ["instance_001"]


def test_an_unknown_instance_is_named() -> None:
    with pytest.raises(ValueError, match=r"not in mankowska2014/bks\.csv: Z9"):
        jobs_for("mankowska", ["A1", "Z9"], 1, 1)


def test_each_seed_is_a_run_of_its_own() -> None:
    jobs = jobs_for("mankowska", ["A1", "B2"], 1, 1, seeds=[3, 4])
    assert [(j["instance"], j["seed"]) for j in jobs] == [("A1", 3), ("A1", 4), ("B2", 3), ("B2", 4)]
    assert {j["seed"] for j in jobs_for("mankowska", ["A1"], 1, 1)} == {0}
