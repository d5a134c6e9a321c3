"""The course's best IMDB recipe, from the raw archive to test accuracy, timed end to end;
and its LSTM (`course_lib.training.text_recipes`).

One JSON object:

- the best recipe, NBSVM on binary 1- to 3-gram features: `test_accuracy`,
  `train_seconds`, `total_seconds` (reading the archive, tokenising, features, training,
  predicting — everything after the imports), `seconds` (those five phases), the
  feature and review counts, the settings;
- `lstm`: the bidirectional LSTM trained on the same tokens — `test_accuracy`,
  `train_seconds`, `epochs`, `epoch_seconds`, `settings` — unless `--no-lstm`;
- `threads` and the load average at the start and the end: on a shared machine other
  processes take the cores and every time stretches.

The test set is used once per model; the settings were chosen on a validation split of
the training set (see text_recipes).

    COURSE_DATA_DIR=../shared/data .venv/bin/python benchmarks/imdb.py --threads 2
"""
import argparse
import json
import os
import time

import torch
# torch.optim imports torch._dynamo on an optimizer's first step, 3–5 s: an import like the
# others, made here so that no phase of the recipe is charged with it
import torch._dynamo  # noqa: F401

from course_lib.metrics import binary_accuracy
from course_lib.training.text_recipes import (
    NgramFeatures, bag_batches, lstm_sequences, predict_logits, read_tokenized_splits, sequence_batches,
    train_lstm, train_nbsvm,
)

# chosen by benchmarks/imdb_settings.py on a film-grouped validation split of train
NBSVM_SETTINGS = {"ngrams": 3, "buckets": 2**30, "min_df": 3, "alpha": 1.0, "optimizer": "Adam", "lr": 0.003,
                  "batch_size": 256, "epochs": 3}
LSTM_SETTINGS = {"vocab_size": 20_000, "maxlen": 300, "embedding_dim": 128, "hidden_size": 64,
                 "bidirectional": True, "dropout": 0.3, "max_lr": 0.004, "schedule": "OneCycleLR per iteration",
                 "batch_size": 64, "epochs": 4, "clip_grad_norm": 1.0}
QUICK_STRIDE = 25  # every 25th review: 1 000 per split


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2,
                        help="torch threads, and with 2 or more, read and tokenise the two splits in two "
                             "processes at once (default: %(default)s)")
    parser.add_argument("--no-lstm", action="store_true", help="leave the LSTM out (it trains for minutes)")
    parser.add_argument("--lstm-epochs", type=int, default=LSTM_SETTINGS["epochs"],
                        help="(default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke run in seconds: every {QUICK_STRIDE}th review of each split, one LSTM epoch")
    args = parse_common_args(parser, argv)
    if args.quick:
        args.lstm_epochs = 1
    return args


def parse_common_args(parser, argv):
    """`parser`'s arguments with --seed and --data-root, which both IMDB benchmarks take, and
    args.stride: the reviews kept, every QUICK_STRIDE-th one with --quick."""
    parser.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    parser.add_argument("--data-root", default=None,
                        help="folder holding imdb/ (default: $COURSE_DATA_DIR, then the download cache)")
    args = parser.parse_args(argv)
    args.stride = QUICK_STRIDE if args.quick else 1
    return args


def load_average():
    """The 1-minute load average: about how many processes wanted a core."""
    return round(os.getloadavg()[0], 2)


def nbsvm(train, test, seed):
    """Features, training and prediction of the best recipe: (result, their seconds)."""
    started = time.perf_counter()
    features = NgramFeatures(n=NBSVM_SETTINGS["ngrams"], buckets=NBSVM_SETTINGS["buckets"],
                             min_df=NBSVM_SETTINGS["min_df"])
    train_bags = features.fit_transform(train)
    test_bags = features.transform(test)
    featured = time.perf_counter()
    model, history = train_nbsvm(train_bags, train.labels, features.vocab_size, epochs=NBSVM_SETTINGS["epochs"],
                                 batch_size=NBSVM_SETTINGS["batch_size"], lr=NBSVM_SETTINGS["lr"],
                                 alpha=NBSVM_SETTINGS["alpha"], seed=seed)
    trained = time.perf_counter()
    logits, labels = predict_logits(model, bag_batches(test_bags, test.labels))
    accuracy = binary_accuracy(logits, labels)
    seconds = {"features": featured - started, "train": trained - featured, "predict": time.perf_counter() - trained}
    return {
        "test_accuracy": round(accuracy, 4),
        "features": features.vocab_size,
        "epoch_seconds": [round(epoch["seconds"], 2) for epoch in history.epochs],
        "final_train_loss": round(history.epochs[-1]["loss"], 4),
    }, seconds


def lstm(train, test, args):
    settings = {**LSTM_SETTINGS, "epochs": args.lstm_epochs}
    started = time.perf_counter()
    vocab, (train_sequences, test_sequences) = lstm_sequences(train, test, vocab_size=settings["vocab_size"],
                                                              maxlen=settings["maxlen"])
    prepared = time.perf_counter()
    model, history = train_lstm(train_sequences, train.labels, len(vocab), epochs=settings["epochs"],
                                batch_size=settings["batch_size"], max_lr=settings["max_lr"],
                                embedding_dim=settings["embedding_dim"], hidden_size=settings["hidden_size"],
                                dropout=settings["dropout"], clip_grad_norm=settings["clip_grad_norm"],
                                seed=args.seed)
    trained = time.perf_counter()
    logits, labels = predict_logits(model, sequence_batches(test_sequences, test.labels, batch_size=256))
    return {
        "test_accuracy": round(binary_accuracy(logits, labels), 4),
        "train_seconds": round(trained - prepared, 2),
        "epochs": settings["epochs"],
        "epoch_seconds": [round(epoch["seconds"], 2) for epoch in history.epochs],
        "final_train_loss": round(history.epochs[-1]["loss"], 4),
        "seconds": {"vocabulary": round(prepared - started, 2), "predict": round(time.perf_counter() - trained, 2)},
        "settings": settings,
        "load_average_end": load_average(),
    }


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    started_load = load_average()
    started = time.perf_counter()
    train, test, reading = read_tokenized_splits(root=args.data_root, stride=args.stride, workers=args.threads)
    best, seconds = nbsvm(train, test, args.seed)
    total = time.perf_counter() - started
    seconds = {"read": reading["read"], "tokenize": reading["tokenize"], **seconds}
    result = {
        "recipe": "NBSVM: binary 1-3-gram features, log-count ratio, logistic regression by Adam",
        "test_accuracy": best["test_accuracy"],
        "train_seconds": round(seconds["train"], 2),
        "total_seconds": round(total, 2),
        "seconds": {phase: round(value, 2) for phase, value in seconds.items()},
        "seconds_per_split": {split: {phase: round(value, 2) for phase, value in phases.items()}
                              for split, phases in reading["splits"].items()},
        **{key: best[key] for key in ("features", "epoch_seconds", "final_train_loss")},
        "train_reviews": len(train), "test_reviews": len(test), "words": len(train.words),
        "settings": NBSVM_SETTINGS,
        "threads": torch.get_num_threads(),
        "load_average": {"start": started_load, "end": load_average()},
    }
    if not args.no_lstm:
        result["lstm"] = lstm(train, test, args)
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
