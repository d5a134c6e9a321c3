"""How benchmarks/imdb.py's NBSVM settings are chosen: on the training reviews only, a grid
over the n-gram length, min_df and Adam's learning rate, judged on a validation split that
keeps each film's reviews on one side (`text_recipes.film_validation_split`), as 07 teaches.

Each setting is trained for `--epochs` epochs and validated after every one; there is no
schedule, so epoch k's accuracy is what a k-epoch run would reach. One JSON line per
(ngrams, min_df, lr): `val_accuracy_per_epoch`, `features`, `epoch_seconds`; then a last
line, `best`: the setting and epoch count with the highest validation accuracy (ties go
to fewer epochs, then to the earlier setting in the grid: the cheaper run). The test set
is never read here.

    COURSE_DATA_DIR=../shared/data .venv/bin/python benchmarks/imdb_settings.py
"""
import argparse
import json
import os
import sys
from itertools import product
from pathlib import Path

import torch

# run as a script, this folder is on the path and the course root is not
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.imdb import QUICK_STRIDE, parse_common_args  # noqa: E402
from course_lib.data import load_imdb_movies  # noqa: E402
from course_lib.training.text_recipes import (  # noqa: E402
    NgramFeatures, bag_batches, film_validation_split, read_tokenized, train_nbsvm,
)

NGRAMS = (2, 3)
MIN_DF = (1, 2, 3)
LEARNING_RATES = (0.001, 0.003, 0.01)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per setting (default: %(default)s)")
    parser.add_argument("--validation-size", type=int, default=None,
                        help="training reviews held out, whole films (default: 5000; 200 with --quick)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke run in seconds: every {QUICK_STRIDE}th training review, one epoch")
    args = parse_common_args(parser, argv)
    if args.quick:
        args.epochs = 1
    if args.validation_size is None:
        args.validation_size = 200 if args.quick else 5_000
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    reviews, _ = read_tokenized("train", root=args.data_root, stride=args.stride)
    films = load_imdb_movies("train", root=args.data_root)[::args.stride]
    rest, validation = film_validation_split(reviews, films, args.validation_size, seed=args.seed)
    results, best = [], None
    for ngrams, min_df in product(NGRAMS, MIN_DF):
        features = NgramFeatures(n=ngrams, min_df=min_df)
        # both parts are ids of the same words; n-grams only validation holds are not kept
        rest_bags, validation_bags = features.fit_transform(rest), features.transform(validation)
        for lr in LEARNING_RATES:
            _, history = train_nbsvm(rest_bags, rest.labels, features.vocab_size, epochs=args.epochs, lr=lr,
                                     seed=args.seed, val_loader=bag_batches(validation_bags, validation.labels))
            accuracies = [round(epoch["val_accuracy"], 4) for epoch in history.epochs]
            results.append({"ngrams": ngrams, "min_df": min_df, "lr": lr, "val_accuracy_per_epoch": accuracies,
                            "features": features.vocab_size,
                            "epoch_seconds": [round(epoch["seconds"], 2) for epoch in history.epochs]})
            print(json.dumps(results[-1]), flush=True)
            for epochs, accuracy in enumerate(accuracies, start=1):
                if best is None or (accuracy, -epochs) > (best["val_accuracy"], -best["epochs"]):
                    best = {"ngrams": ngrams, "min_df": min_df, "lr": lr, "epochs": epochs, "val_accuracy": accuracy}
    summary = {"best": best, "train_reviews": len(rest), "validation_reviews": len(validation),
               "threads": args.threads, "load_average": round(os.getloadavg()[0], 2)}
    print(json.dumps(summary), flush=True)
    return results, summary


if __name__ == "__main__":
    main()
