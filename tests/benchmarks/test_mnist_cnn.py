"""A smoke test of the CNN benchmark in quick mode on a small fake MNIST: fields, not timings."""
import json

import numpy as np

from benchmarks import mnist_cnn as benchmark


def fake_mnist(split, root=None):
    rng = np.random.default_rng(0 if split == "train" else 1)
    n = 3000 if split == "train" else 800
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n)


def test_quick_mode_prints_the_recipe_the_race_and_the_profile_as_json_lines(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(benchmark, "load_mnist", fake_mnist)
    profile_file = tmp_path / "profile.txt"

    returned = benchmark.main(["--quick", "--threads", "1", "--profile-file", str(profile_file)])

    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == returned
    recipe, race, profile = printed
    assert recipe["measurement"] == "recipe"
    assert recipe["epochs"] == 1 and len(recipe["epoch_seconds"]) == 1
    assert recipe["train_images"] == 1200 and recipe["test_images"] == 500  # the quick subsets
    assert 0 <= recipe["test_accuracy"] <= 1 and recipe["train_seconds"] >= 0
    assert recipe["threads"] == 1 and set(recipe["load_average"]) == {"start", "end"}

    assert race["measurement"] == "time_to_target" and race["train_images"] == 1000
    for contender in (race["course_recipe"], race["pytorch_examples"]):
        assert len(contender["validation_accuracy_per_epoch"]) == 1  # one epoch each in quick mode
        assert contender["seconds"] is None or contender["seconds"] >= 0
        assert len(contender["epoch_seconds"]) == 1
    # random labels: nobody reaches 99 %, so there is no ratio
    assert race["ratio_examples_over_course"] is None and race["ratio_at_least"] is None

    assert profile["measurement"] == "profile" and profile["batches"] == 10  # one epoch of the 1200 quick images
    shares = [operator["share"] for operator in profile["top_operators_by_self_cpu"]]
    assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 1.001
    assert 0 < profile["convolution_share"] < 1
    assert "convolution" in profile_file.read_text()


def test_the_ratio_is_the_examples_seconds_over_the_recipes(monkeypatch):
    reached = iter([{"seconds": 2.0}, {"seconds": 9.0}])
    monkeypatch.setattr(benchmark, "seconds_to_target", lambda *arguments: next(reached))
    args = benchmark.parse_args(["--quick"])

    race = benchmark.race(fake_mnist("train"), args)

    assert race["ratio_examples_over_course"] == 4.5


def test_when_the_examples_recipe_gives_up_the_ratio_is_at_least_all_the_seconds_it_trained(monkeypatch):
    reached = iter([{"seconds": 2.0, "epoch_seconds": [1.0, 1.0]},
                    {"seconds": None, "epoch_seconds": [3.0, 4.0, 5.0]}])
    monkeypatch.setattr(benchmark, "seconds_to_target", lambda *arguments: next(reached))

    race = benchmark.race(fake_mnist("train"), benchmark.parse_args(["--quick"]))

    assert race["ratio_examples_over_course"] is None
    assert race["ratio_at_least"] == 6.0


def test_only_runs_the_measurements_named(monkeypatch, capsys):
    monkeypatch.setattr(benchmark, "load_mnist", fake_mnist)

    returned = benchmark.main(["--quick", "--threads", "1", "--only", "profile"])

    assert [result["measurement"] for result in returned] == ["profile"]
