"""A smoke test of the panel benchmark on a small fake MNIST: fields, not timings."""
import json

import numpy as np

from benchmarks import widgets as benchmark


def fake_mnist(split, root=None):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (600, 28, 28), dtype=np.uint8), np.arange(600) % 10


def test_main_prints_one_json_line_per_panel(monkeypatch, capsys):
    monkeypatch.setattr(benchmark, "load_mnist", fake_mnist)
    for name, small in (("SAMPLES", 200), ("EPOCHS", 2), ("DEPTH", 4), ("WIDTH", 32), ("STEPS", 50)):
        monkeypatch.setattr(benchmark, name, small)
    returned = benchmark.main(["--repeats", "1"])
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == returned
    assert [result["panel"] for result in printed] == [
        "EpochExplorer", "InitExplorer", "OptimizerExplorer", "AugmentationExplorer"]
    for result in printed:
        assert result["repeats"] == 1 and 0 <= result["median_seconds"] <= result["max_seconds"]
