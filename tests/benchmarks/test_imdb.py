"""A smoke test of the IMDB benchmark in quick mode on small fake reviews: fields, not timings."""
import json

import numpy as np
import pytest

from benchmarks import imdb as benchmark
from course_lib.training import text_recipes

PHASES = {"read", "tokenize", "features", "train", "predict"}


def fake_imdb(split, root=None):
    """250 reviews per label, sorted by label as load_imdb's; the quick mode keeps every 25th."""
    rng = np.random.default_rng(0 if split == "train" else 1)
    words = {0: ["dull", "boring", "awful"], 1: ["great", "fun", "moving"]}
    texts, labels = [], []
    for label in (0, 1):
        for _ in range(250):
            tokens = list(rng.choice(["the", "film", "plot", "actor", "scene"], 20)) + list(rng.choice(words[label], 3))
            texts.append(" ".join(rng.permutation(tokens)) + "<br />!")
            labels.append(label)
    return texts, np.array(labels)


@pytest.fixture(autouse=True)
def fake_reviews(monkeypatch):
    monkeypatch.setattr(text_recipes, "load_imdb", fake_imdb)


def test_quick_mode_prints_the_best_recipe_and_the_lstm_as_json(capsys):
    returned = benchmark.main(["--quick", "--threads", "1"])

    assert json.loads(capsys.readouterr().out) == returned
    assert returned["train_reviews"] == returned["test_reviews"] == 20  # every 25th of 500
    assert 0 <= returned["test_accuracy"] <= 1 and returned["threads"] == 1
    assert set(returned["seconds"]) == PHASES and min(returned["seconds"].values()) >= 0
    assert returned["total_seconds"] >= returned["train_seconds"] == returned["seconds"]["train"]
    assert set(returned["seconds_per_split"]) == {"train", "test"}
    assert returned["features"] > 0 and len(returned["epoch_seconds"]) == returned["settings"]["epochs"]
    assert set(returned["load_average"]) == {"start", "end"}

    lstm = returned["lstm"]
    assert lstm["epochs"] == 1 and len(lstm["epoch_seconds"]) == 1  # one epoch in quick mode
    assert 0 <= lstm["test_accuracy"] <= 1 and lstm["train_seconds"] >= 0
    assert lstm["settings"]["bidirectional"] and lstm["settings"]["maxlen"] == 300


def test_no_lstm_leaves_the_lstm_out_and_two_threads_read_in_two_processes(capsys):
    returned = benchmark.main(["--quick", "--threads", "2", "--no-lstm"])

    assert "lstm" not in returned and returned["threads"] == 2
    assert returned["train_reviews"] == 20 and set(returned["seconds"]) == PHASES
