"""The course's CNN recipe for MNIST on a CPU (`course_lib.training.recipes`), timed.

Three measurements, one JSON line each:

1. "recipe": the recipe trained from scratch on the full training set, then evaluated on
   the test set, once: `test_accuracy`, `train_seconds`, `epoch_seconds`.
2. "time_to_target": the time the recipe and pytorch/examples' MNIST recipe
   (`pytorch_examples_cnn`, Adadelta lr=1.0, StepLR gamma=0.7 per epoch, batches of 64)
   each need to reach `--target` accuracy on a validation split held out from the training
   set, evaluated after every epoch as pytorch/examples evaluates, both trained on the
   rest of the training set; and the ratio of the two (or, when pytorch/examples' recipe
   does not get there within its epochs, the least the ratio can be).
3. "profile": one epoch of the recipe on the full training set under torch.profiler: the
   operators with the most self CPU time, and the share of all of it spent in
   convolutions.

Only training is timed (fit's seconds per epoch); loading data, evaluating and profiling
are not. The load average is recorded with every timing: on a shared machine, other
processes take the cores and every time stretches.

    COURSE_DATA_DIR=../shared/data .venv/bin/python benchmarks/mnist_cnn.py
"""
import argparse
import json
import os

import numpy as np
import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

from course_lib.data import load_mnist
from course_lib.data.preprocessing import mean_and_std, train_validation_split
from course_lib.metrics import accuracy
from course_lib.models import Standardize, pytorch_examples_cnn
from course_lib.training import Callback
from course_lib.training.recipes import (
    DEFAULT_EPOCHS, Training, fast_cnn_training, predict, scaled_images, shuffled_batches, train_fast_cnn,
)

EXAMPLES_BATCH_SIZE = 64
MEASUREMENTS = ("recipe", "time_to_target", "profile")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS,
                        help="epochs of the course recipe (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: %(default)s)")
    parser.add_argument("--target", type=float, default=0.99,
                        help="validation accuracy both recipes race to (default: %(default)s)")
    parser.add_argument("--validation-size", type=int, default=10_000,
                        help="training images held out for the race (default: %(default)s)")
    parser.add_argument("--examples-max-epochs", type=int, default=14,
                        help="give up on pytorch/examples' recipe after this many epochs (default: "
                             "%(default)s, its own number of epochs)")
    parser.add_argument("--train-samples", type=int, default=None, metavar="N",
                        help="use the first N training images only (default: all 60000)")
    parser.add_argument("--test-samples", type=int, default=None, metavar="N",
                        help="test on the first N test images only (default: all 10000)")
    parser.add_argument("--profile-file", default=None,
                        help="also write the profile's full table, by operator and input shape, here")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run in seconds: 1 epoch each on 1200 training images "
                             "(200 held out for the race) and 500 test images")
    parser.add_argument("--only", choices=MEASUREMENTS, action="append",
                        help="run this measurement only (repeatable; default: all three)")
    parser.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    parser.add_argument("--data-root", default=None,
                        help="MNIST folder (default: $COURSE_DATA_DIR, then the download cache)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.examples_max_epochs = 1, 1
        args.train_samples, args.test_samples, args.validation_size = 1200, 500, 200
    return args


def load_average():
    """The 1-minute load average: about how many processes wanted a core."""
    return round(os.getloadavg()[0], 2)


def train_recipe(train, test, args):
    started_load = load_average()
    model, history = train_fast_cnn(*train, epochs=args.epochs, seed=args.seed)
    finished_load = load_average()
    test_images, test_labels = test
    epoch_seconds = [epoch["seconds"] for epoch in history.epochs]
    return {
        "measurement": "recipe",
        "test_accuracy": round(accuracy(predict(model, test_images), test_labels), 4),
        "train_seconds": round(sum(epoch_seconds), 2),
        "epochs": args.epochs,
        "epoch_seconds": [round(seconds, 2) for seconds in epoch_seconds],
        "final_train_loss": round(history.epochs[-1]["loss"], 4),
        "train_images": len(train[0]),
        "test_images": len(test_images),
        "threads": torch.get_num_threads(),
        "load_average": {"start": started_load, "end": finished_load},
    }


class HeldOutAccuracy(Callback):
    """After every epoch, the model's accuracy on held-out images and the training seconds
    so far (fit times the epoch before it calls callbacks, so evaluating here costs no
    training time); stops training once the accuracy reaches `target`."""

    def __init__(self, images, labels, target):
        self.images, self.labels, self.target = images, labels, target
        self.epoch_seconds, self.accuracies, self.seconds_to_target = [], [], None

    @property
    def train_seconds(self):
        return sum(self.epoch_seconds)

    def on_epoch_end(self, epoch, logs):
        self.epoch_seconds.append(logs["seconds"])
        accuracy_now = accuracy(predict(self.run.model, self.images), self.labels)
        self.accuracies.append(round(accuracy_now, 4))
        if accuracy_now >= self.target:
            self.seconds_to_target = self.train_seconds
            self.run.stop_training = True


def examples_recipe(images, labels, epochs, seed):
    """pytorch/examples' MNIST recipe, fed batches from memory as the course recipe is. It
    normalises with 0.1307 and 0.3081, the full training set's mean and std; this uses the
    mean and std of the images it trains on."""
    torch.manual_seed(seed)
    inputs = scaled_images(images)
    model = nn.Sequential(Standardize(*mean_and_std(inputs.numpy())), pytorch_examples_cnn())
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    loader = shuffled_batches(inputs, torch.as_tensor(labels), EXAMPLES_BATCH_SIZE, seed=seed)
    return Training(model, optimizer, scheduler, "epoch", loader, nn.NLLLoss(), epochs)


def seconds_to_target(training, validation, target):
    held_out = HeldOutAccuracy(*validation, target)
    started_load = load_average()
    training.fit(callbacks=[held_out], progress=False)
    seconds = held_out.seconds_to_target
    return {
        "seconds": None if seconds is None else round(seconds, 2),
        "validation_accuracy_per_epoch": held_out.accuracies,
        "epoch_seconds": [round(seconds, 2) for seconds in held_out.epoch_seconds],
        "load_average": {"start": started_load, "end": load_average()},
    }


def race(train, args):
    train_images, train_labels, val_images, val_labels = train_validation_split(
        *train, args.validation_size, np.random.default_rng(args.seed))
    part, validation = (train_images, train_labels), (val_images, val_labels)
    course = seconds_to_target(fast_cnn_training(*part, epochs=args.epochs, seed=args.seed), validation, args.target)
    examples = seconds_to_target(examples_recipe(*part, args.examples_max_epochs, args.seed), validation, args.target)
    both = course["seconds"] is not None and examples["seconds"] is not None
    # the examples' recipe gave up: it would have needed more than all the seconds it trained
    only_course = course["seconds"] is not None and examples["seconds"] is None
    return {
        "measurement": "time_to_target",
        "target_accuracy": args.target,
        "evaluated_on": f"{len(val_images)} training images held out from both recipes' training, after every epoch",
        "train_images": len(train_images),
        "course_recipe": course,
        "pytorch_examples": examples,
        "ratio_examples_over_course": round(examples["seconds"] / course["seconds"], 2) if both else None,
        "ratio_at_least": (round(sum(examples["epoch_seconds"]) / course["seconds"], 2)
                           if only_course else None),
    }


def profile_epoch(train, args, top=12):
    training = fast_cnn_training(*train, epochs=1, seed=args.seed)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=args.profile_file is not None) as profiler:
        history = training.fit(progress=False)
    operators = sorted(profiler.key_averages(), key=lambda event: event.self_cpu_time_total, reverse=True)
    total = sum(event.self_cpu_time_total for event in operators)
    convolution = sum(event.self_cpu_time_total for event in operators if "convolution" in event.key)
    if args.profile_file:
        table = profiler.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=40)
        with open(args.profile_file, "w") as file:
            file.write(table)
    return {
        "measurement": "profile",
        "batches": len(history.iterations),
        "seconds_under_profiler": round(history.epochs[0]["seconds"], 2),
        "convolution_share": round(convolution / total, 3),
        "top_operators_by_self_cpu": [
            {"name": event.key, "self_cpu_seconds": round(event.self_cpu_time_total / 1e6, 3),
             "share": round(event.self_cpu_time_total / total, 3), "calls": event.count}
            for event in operators[:top]],
        "load_average": load_average(),
    }


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    train_images, train_labels = load_mnist("train", root=args.data_root)
    test_images, test_labels = load_mnist("test", root=args.data_root)
    train = train_images[:args.train_samples], train_labels[:args.train_samples]
    test = test_images[:args.test_samples], test_labels[:args.test_samples]
    measures = {"recipe": lambda: train_recipe(train, test, args), "time_to_target": lambda: race(train, args),
                "profile": lambda: profile_epoch(train, args)}
    results = []
    for name in MEASUREMENTS:
        if args.only is None or name in args.only:
            results.append(measures[name]())
            print(json.dumps(results[-1]), flush=True)
    return results


if __name__ == "__main__":
    main()
