"""How long each notebook panel takes to answer a change of its controls, in the worst case
the controls allow, on real MNIST.

A panel that takes seconds to redraw feels broken, so each change is timed from setting the
control's value to the new picture: the run it triggers (training, an optimizer's path, a
deep network's forward and backward pass, an augmentation) and the rendering. Prints one
JSON line per change: `panel`, `change`, `median_seconds`, `max_seconds` over `--repeats`
changes (the first, which warms matplotlib's caches, is not counted).

    COURSE_DATA_DIR=../shared/data .venv/bin/python benchmarks/widgets.py
"""
import argparse
import json
import statistics
import time

import numpy as np

from course_lib import widgets
from course_lib.data import load_mnist
from course_lib.data.preprocessing import flatten_and_scale


# the largest settings each panel's controls allow
SAMPLES, EPOCHS = 2000, 8
DEPTH, WIDTH = 50, 512
STEPS = 2000


def _digits_3_and_8(images, labels, count):
    chosen = np.flatnonzero((labels == 3) | (labels == 8))[:count]
    return flatten_and_scale(images[chosen]), (labels[chosen] == 8).astype(np.float32)


def changes(images, labels):
    """(panel, change, make the panel, the settings to alternate between) for each worst case."""
    X38, y38 = _digits_3_and_8(images, labels, SAMPLES)
    X, y = flatten_and_scale(images[:SAMPLES]), labels[:SAMPLES]
    return [
        ("EpochExplorer", f"batch size 1 on {len(X38)} images for {EPOCHS} epochs ({EPOCHS * len(X38)} steps)",
         lambda: widgets.epoch_explorer(X38, y38, n_samples=len(X38), epochs=EPOCHS, batch_size=1),
         # with B = 1, drop_last changes nothing but still reruns the 16 000 steps
         lambda panel, k: setattr(panel.drop_last, "value", k % 2 == 0)),
        ("InitExplorer", f"depth {DEPTH}, width {WIDTH}",
         lambda: widgets.init_explorer(X, y, width=WIDTH),
         lambda panel, k: setattr(panel.depth, "value", DEPTH if k % 2 == 0 else DEPTH - 1)),
        ("OptimizerExplorer", f"Adam for {STEPS} steps on Rosenbrock's function",
         lambda: widgets.optimizer_explorer(optimizer="Adam", steps=STEPS - 10),
         lambda panel, k: (setattr(panel.surface, "value", "Rosenbrock"),
                           setattr(panel.steps, "value", STEPS if k % 2 == 0 else STEPS - 10))),
        ("AugmentationExplorer", "a new elastic distortion of 8 digits × 3 rows",
         lambda: widgets.AugmentationExplorer(images[:8], elastic_alpha=20.0),
         lambda panel, k: setattr(panel.elastic_alpha, "value", 40.0 if k % 2 == 0 else 39.0)),
    ]


def time_change(make_panel, change, repeats):
    panel = make_panel()
    change(panel, -1)  # warms matplotlib's caches; not counted
    seconds = []
    for k in range(repeats):
        started = time.perf_counter()
        change(panel, k)
        seconds.append(time.perf_counter() - started)
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed changes per panel (default: %(default)s)")
    args = parser.parse_args(argv)
    images, labels = load_mnist("train")
    results = []
    for panel, description, make_panel, change in changes(images, labels):
        seconds = time_change(make_panel, change, args.repeats)
        result = {"panel": panel, "change": description, "median_seconds": round(statistics.median(seconds), 3),
                  "max_seconds": round(max(seconds), 3), "repeats": args.repeats}
        print(json.dumps(result), flush=True)
        results.append(result)
    return results


if __name__ == "__main__":
    main()
