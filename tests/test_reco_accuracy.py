"""Links against the sandbox generator's ground truth (5,000 records; bench/accuracy.py runs 100,000)."""
from __future__ import annotations

from bench.accuracy import generate, links, score, truth_frame


def test_precision_and_recall_on_generated_files(tmp_path):
    generate(tmp_path, 5000, 11)
    pairs, _ = links(tmp_path)
    result = score(pairs, truth_frame(tmp_path / "ground_truth.csv"))
    assert result["links"] > 4000
    assert result["precision"] >= 0.999, result["wrong"]
    assert result["recall"] >= 0.99, result["missed"]
