"""A smoke test of the walkthrough benchmark on a small fake MNIST: fields, not timings."""
import json

import numpy as np

from benchmarks import mlp_numpy_vs_torch
from benchmarks import numpy_walkthrough as benchmark


def fake_mnist(split, root=None):
    rng = np.random.default_rng(0 if split == "train" else 1)
    n = 500 if split == "train" else 100
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n)


def test_main_prints_the_run_next_to_the_walkthroughs_reported_figures(monkeypatch, capsys):
    monkeypatch.setattr(mlp_numpy_vs_torch, "load_mnist", fake_mnist)

    returned = benchmark.main(["--epochs", "2", "--train-samples", "300"])

    assert json.loads(capsys.readouterr().out) == returned
    assert returned["epochs"] == 2 and returned["train_samples"] == 300
    assert len(returned["epoch_seconds"]) == 2 and returned["train_seconds"] >= 0
    assert 0 <= returned["test_accuracy"] <= 1
    assert returned["configuration"] == {
        "sizes": [784, 128, 64, 10], "epochs": 20, "weight_std": 0.01, "lr": 0.1,
        "batch_size": 64, "momentum": 0.0, "dtype": "float32"}
    assert returned["reported"]["test_accuracy"] == 0.9724 and returned["reported"]["train_seconds"] == 245
    assert returned["reported"]["source"].startswith("https://www.textbookofai.com/")
    assert len(returned["loadavg_before"]) == len(returned["loadavg_after"]) == 3
