"""A smoke test of the IMDB settings search in quick mode on small fake reviews: fields, the
choice of the best, and that the test split is never read."""
import json

from benchmarks import imdb_settings as search
from course_lib.training import text_recipes
from tests.benchmarks.test_imdb import fake_imdb


def fake_movies(split, root=None):
    """Five reviews per film, in load_imdb's order."""
    return [f"tt{split}{i // 5}" for i in range(500)]


def test_quick_mode_prints_a_line_per_setting_and_the_best_of_them(monkeypatch, capsys):
    splits_read = []
    monkeypatch.setattr(text_recipes, "load_imdb", lambda split, root=None: splits_read.append(split) or fake_imdb(split))
    monkeypatch.setattr(search, "load_imdb_movies", fake_movies)

    results, summary = search.main(["--quick", "--threads", "1", "--validation-size", "5"])

    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == results + [summary]
    assert splits_read == ["train"]
    assert [(r["ngrams"], r["min_df"], r["lr"]) for r in results] == [
        (n, min_df, lr) for n in search.NGRAMS for min_df in search.MIN_DF for lr in search.LEARNING_RATES]
    assert all(len(r["val_accuracy_per_epoch"]) == len(r["epoch_seconds"]) == 1 for r in results)
    assert summary["train_reviews"] + summary["validation_reviews"] == 20 and summary["validation_reviews"] >= 5
    best = summary["best"]
    assert best["val_accuracy"] == max(r["val_accuracy_per_epoch"][0] for r in results)
    first_best = next(r for r in results if r["val_accuracy_per_epoch"][0] == best["val_accuracy"])
    assert (best["ngrams"], best["min_df"], best["lr"], best["epochs"]) == (
        first_best["ngrams"], first_best["min_df"], first_best["lr"], 1)
