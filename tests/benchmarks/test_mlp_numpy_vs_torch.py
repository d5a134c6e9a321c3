"""A smoke test of the benchmark script on a small fake MNIST: fields, not timings."""
import json

import numpy as np
import pytest

from benchmarks import mlp_numpy_vs_torch as benchmark


def fake_mnist(split, root=None):
    rng = np.random.default_rng(0 if split == "train" else 1)
    n = 2000 if split == "train" else 300
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n)


def test_main_prints_one_json_line_per_implementation_then_the_time_ratio(monkeypatch, capsys):
    monkeypatch.setattr(benchmark, "load_mnist", fake_mnist)
    returned = benchmark.main(["--epochs", "1", "--train-samples", "1000", "--hidden", "32", "16",
                               "--batch-size", "100"])
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == returned
    numpy_result, torch_result, ratio = printed
    for result, implementation in [(numpy_result, "numpy"), (torch_result, "torch")]:
        assert result["implementation"] == implementation
        assert result["architecture"] == "784-32-16-10"
        assert result["epochs"] == 1 and result["batch_size"] == 100 and result["dtype"] == "float32"
        assert 0 <= result["test_accuracy"] <= 1
        assert result["train_seconds"] >= 0 and result["seconds_per_epoch"] >= 0
        assert result["threads"] >= 1
    # the same initial weights, batches and optimizer: the two trainings agree
    assert numpy_result["final_train_loss"] == pytest.approx(torch_result["final_train_loss"], rel=1e-3)
    assert list(ratio) == ["seconds_per_epoch_ratio_numpy_over_torch"]
    assert ratio["seconds_per_epoch_ratio_numpy_over_torch"] > 0
