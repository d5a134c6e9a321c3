"""The numpy MNIST walkthrough of assignment 06 reproduced with course_lib.scratch, at full size.

Trains `course_lib.scratch.walkthrough`'s configuration (784-128-64-10, ReLU, weights from
N(0, 0.01²), plain SGD, 20 epochs; the module's docstring says which settings the source
confirms and which are assumed) on the MNIST training set and prints one JSON line: the
test accuracy, the training time (the steps alone, not loading or evaluation), the
configuration, and the walkthrough's reported figures beside them.

    COURSE_DATA_DIR=../shared/data .venv/bin/python benchmarks/numpy_walkthrough.py

Timings depend on the machine and on whatever else runs on its cores: the line records the
BLAS thread count and the load average before and after the run.
"""
import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

import numpy as np

# run as a script, this folder is on the path and the course root is not
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.mlp_numpy_vs_torch import blas_threads, load  # noqa: E402
from course_lib.scratch.mlp import mlp_predict  # noqa: E402
from course_lib.scratch.walkthrough import (  # noqa: E402
    REPORTED, SOURCE, WALKTHROUGH, train_walkthrough_mlp,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=WALKTHROUGH.epochs, help="(default: %(default)s)")
    parser.add_argument("--train-samples", type=int, default=None, metavar="N",
                        help="train on the first N training images only (default: all 60000)")
    parser.add_argument("--seed", type=int, default=0,
                        help="draws the initial weights and the shuffles (default: %(default)s)")
    parser.add_argument("--data-root", default=None,
                        help="MNIST folder (default: $COURSE_DATA_DIR, then the download cache)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    X_train, y_train = load("train", args.data_root, args.train_samples)
    X_test, y_test = load("test", args.data_root)
    load_before = os.getloadavg()
    params, history = train_walkthrough_mlp(X_train, y_train, epochs=args.epochs, seed=args.seed)
    load_after = os.getloadavg()
    result = {
        "test_accuracy": round(float(np.mean(mlp_predict(params, X_test) == y_test)), 4),
        "train_seconds": round(sum(history.seconds), 2),
        "seconds_per_epoch": round(sum(history.seconds) / args.epochs, 3),
        "epoch_seconds": [round(seconds, 3) for seconds in history.seconds],
        "epochs": args.epochs,
        "train_samples": len(X_train),
        "final_train_loss": round(history.train_loss[-1], 5),
        "seed": args.seed,
        # sizes as a list, as JSON gives it back
        "configuration": {**dataclasses.asdict(WALKTHROUGH), "sizes": list(WALKTHROUGH.sizes),
                          "dtype": str(X_train.dtype)},
        "reported": {**REPORTED, "source": SOURCE},
        "threads": blas_threads(),
        "loadavg_before": [round(load, 2) for load in load_before],
        "loadavg_after": [round(load, 2) for load in load_after],
    }
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
