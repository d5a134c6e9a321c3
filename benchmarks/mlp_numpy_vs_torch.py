"""The course's numpy MLP against the same MLP in PyTorch, both trained on full MNIST.

Same architecture, same initial weights, same optimizer (SGD with momentum and the same
per-epoch learning-rate decay), the same mini-batches in the same order, float32, and as
many torch threads as numpy's BLAS uses. Prints one JSON line per implementation and a
last one with the ratio of their times per epoch. Only the training steps are timed;
loading the data and evaluating on the test set are not.

    COURSE_DATA_DIR=../shared/data .venv/bin/python benchmarks/mlp_numpy_vs_torch.py

numpy's BLAS picks its thread count when numpy is imported, so to benchmark on fewer
cores set OPENBLAS_NUM_THREADS (e.g. OPENBLAS_NUM_THREADS=1) in the environment.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from course_lib.data import load_mnist, minibatch_indices
from course_lib.data.preprocessing import flatten_and_scale
from course_lib.scratch.mlp import init_mlp, mlp_predict, train_mlp

N_CLASSES = 10


def parse_args(argv=None):
    # the defaults are tuned: >= 98% test accuracy in about 10 s of training on 2 cores
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[512, 256],
                        help="hidden layer widths (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=8, help="(default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=256, help="(default: %(default)s)")
    parser.add_argument("--lr", type=float, default=0.2,
                        help="learning rate of the first epoch (default: %(default)s)")
    parser.add_argument("--momentum", type=float, default=0.9, help="(default: %(default)s)")
    parser.add_argument("--lr-decay", type=float, default=0.75,
                        help="factor applied to the learning rate after every epoch "
                             "(default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds the initial weights and both implementations' shuffles "
                             "(default: %(default)s)")
    parser.add_argument("--train-samples", type=int, default=None, metavar="N",
                        help="train on the first N training images only (default: all 60000)")
    parser.add_argument("--data-root", default=None,
                        help="MNIST folder (default: $COURSE_DATA_DIR, then the download cache)")
    return parser.parse_args(argv)


def blas_threads():
    """The thread count OpenBLAS chose at import: from its environment variables, else all cores."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(name, "").isdigit() and int(os.environ[name]) > 0:
            return int(os.environ[name])
    return len(os.sched_getaffinity(0))


def load(split, root, samples=None):
    images, labels = load_mnist(split, root=root)
    return flatten_and_scale(images[:samples]), labels[:samples]


def lr_factor(decay):
    """The learning rate's factor in epoch e (from 0): decay ** e, as torch's ExponentialLR."""
    return lambda epoch: decay ** epoch


def train_numpy(params, X, y, args):
    history = train_mlp(params, X, y, lr=args.lr, momentum=args.momentum,
                        batch_size=args.batch_size, epochs=args.epochs,
                        generator=np.random.default_rng(args.seed),
                        lr_schedule=lr_factor(args.lr_decay))
    return history.seconds, history.train_loss[-1]


def torch_mlp(params):
    """An nn.Linear/ReLU stack holding copies of the numpy MLP's parameters."""
    layers = []
    for layer in range(1, len(params) // 2 + 1):
        weight, bias = params[f"W{layer}"], params[f"b{layer}"]
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(bias))
        layers += [linear, torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])  # no ReLU after the logits


def train_torch(model, X, y, args):
    """`train_mlp`'s loop in torch: the same batches (same rng), optimizer and schedule."""
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(args.lr_decay))
    inputs, targets = torch.from_numpy(X), torch.from_numpy(y)
    generator = np.random.default_rng(args.seed)
    seconds = []
    for _ in range(args.epochs):
        started = time.perf_counter()
        loss_sum = 0.0
        for batch in minibatch_indices(len(X), args.batch_size, generator):
            batch = torch.from_numpy(batch)
            loss = F.cross_entropy(model(inputs[batch]), targets[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(batch)
        seconds.append(time.perf_counter() - started)
        scheduler.step()
    return seconds, loss_sum / len(X)


def report(implementation, seconds, final_train_loss, test_accuracy, args, sizes, threads):
    return {
        "implementation": implementation,
        "test_accuracy": round(float(test_accuracy), 4),
        "train_seconds": round(sum(seconds), 3),
        "seconds_per_epoch": round(sum(seconds) / len(seconds), 3),
        "epoch_seconds": [round(epoch, 3) for epoch in seconds],
        "epochs": args.epochs,
        "architecture": "-".join(map(str, sizes)),
        "batch_size": args.batch_size,
        "lr": args.lr,
        "momentum": args.momentum,
        "lr_decay_per_epoch": args.lr_decay,
        "final_train_loss": round(final_train_loss, 5),
        "dtype": "float32",
        "threads": threads,
    }


def main(argv=None):
    args = parse_args(argv)
    threads = blas_threads()
    torch.set_num_threads(threads)
    X_train, y_train = load("train", args.data_root, args.train_samples)
    X_test, y_test = load("test", args.data_root)
    sizes = [X_train.shape[1], *args.hidden, N_CLASSES]
    params = init_mlp(sizes, generator=np.random.default_rng(args.seed), dtype=np.float32)
    model = torch_mlp(params)  # copied before numpy's training changes params in place

    numpy_seconds, loss = train_numpy(params, X_train, y_train, args)
    test_accuracy = np.mean(mlp_predict(params, X_test) == y_test)
    numpy_result = report("numpy", numpy_seconds, loss, test_accuracy, args, sizes, threads)
    print(json.dumps(numpy_result), flush=True)

    torch_seconds, loss = train_torch(model, X_train, y_train, args)
    with torch.no_grad():
        test_accuracy = np.mean(model(torch.from_numpy(X_test)).argmax(dim=1).numpy() == y_test)
    torch_result = report("torch", torch_seconds, loss, test_accuracy, args, sizes, threads)
    print(json.dumps(torch_result), flush=True)

    # both ran the same number of epochs, so total times have the per-epoch ratio
    ratio = {"seconds_per_epoch_ratio_numpy_over_torch":
             round(sum(numpy_seconds) / sum(torch_seconds), 3)}
    print(json.dumps(ratio), flush=True)
    return [numpy_result, torch_result, ratio]


if __name__ == "__main__":
    main()
