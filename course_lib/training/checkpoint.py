"""Everything a training run needs to continue exactly where it stopped, in one file.

Bit-identical resumption needs more than the weights: the optimizer's state (momentum
buffers, step counts), the scheduler's position, the counters, the history, what the
callbacks have learned, and every random number generator the next epoch will draw from
— python's, numpy's, torch's (dropout, and the shuffling of loaders without a generator
of their own) and the generators of the loaders (shuffling). A checkpoint is written
only at an epoch end, and restored right before the next epoch begins.

Files are written to a temporary file in the same directory and renamed over the old one
(`os.replace` is atomic), so a crash or error mid-write leaves the previous checkpoint
intact. They are read with `torch.load(weights_only=True)`: plain data and tensors only.
"""
import os
import random
import tempfile
from pathlib import Path

import numpy as np
import torch

from ..errors import CourseError

FORMAT = "course_lib.training checkpoint"
VERSION = 1


class CheckpointError(CourseError):
    """A checkpoint that cannot be written, read, or used for this run."""


def loader_generators(loader):
    """The distinct torch.Generators a DataLoader draws from (its own and its sampler's)."""
    if loader is None:
        return []
    candidates = [getattr(loader, "generator", None), getattr(getattr(loader, "sampler", None), "generator", None)]
    batch_sampler = getattr(loader, "batch_sampler", None)
    candidates.append(getattr(getattr(batch_sampler, "sampler", None), "generator", None))
    generators = []
    for generator in candidates:
        if isinstance(generator, torch.Generator) and all(generator is not g for g in generators):
            generators.append(generator)
    return generators


def random_states(loaders):
    numpy_state = np.random.get_state()
    states = {
        "python": random.getstate(),
        # the key as a list of ints: weights_only loading refuses numpy arrays
        "numpy": (numpy_state[0], numpy_state[1].tolist(), *numpy_state[2:]),
        "torch": torch.get_rng_state(),
        "loaders": [[g.get_state() for g in loader_generators(loader)] for loader in loaders],
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_random_states(states, loaders):
    counts = [len(loader_generators(loader)) for loader in loaders]
    saved_counts = [len(saved) for saved in states["loaders"]]
    if counts != saved_counts:
        raise CheckpointError(
            f"the checkpoint holds the states of {saved_counts} loader generators (training, "
            f"validation) but this run's loaders have {counts}; build the DataLoaders as the run "
            "that saved it did (with or without generator=torch.Generator())")
    random.setstate(states["python"])
    name, key, *rest = states["numpy"]
    np.random.set_state((name, np.array(key, dtype=np.uint32), *rest))
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    for loader, saved in zip(loaders, states["loaders"]):
        for generator, state in zip(loader_generators(loader), saved):
            generator.set_state(state)


def training_state(run):
    """The checkpoint of a `TrainingRun` at the end of epoch `run.epoch`, as a dict."""
    scheduler = run.scheduler
    return {
        "format": FORMAT,
        "version": VERSION,
        "epoch": run.epoch,
        "global_step": run.global_step,
        "model": run.model.state_dict(),
        "optimizer_class": type(run.optimizer).__name__,
        "optimizer": run.optimizer.state_dict(),
        "scheduler_class": None if scheduler is None else type(scheduler).__name__,
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "history": run.history.state_dict(),
        "callbacks": [[type(callback).__name__, callback.state_dict()] for callback in run.callbacks],
        "random_states": random_states([run.train_loader, run.val_loader]),
    }


def save_checkpoint(path, run):
    """Write `training_state(run)` to `path` atomically; returns the path."""
    path = Path(path)
    state = training_state(run)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise CheckpointError(f"cannot write a checkpoint to {path}: {error}") from error
    try:
        with os.fdopen(descriptor, "wb") as file:
            torch.save(state, file)
            file.flush()
            os.fsync(file.fileno())  # on disk before the rename makes it the checkpoint
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, Exception):
            previous = "the previous checkpoint there is unchanged" if path.exists() else "nothing was written"
            raise CheckpointError(f"saving the checkpoint {path} failed ({error!r}); {previous}") from error
        raise
    return path


def load_checkpoint(path):
    """The dict `save_checkpoint` wrote, after checking it is one."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"there is no checkpoint at {path} to resume from; check the path "
                              "(ModelCheckpoint's path), or leave resume_from out to start afresh")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise CheckpointError(f"the checkpoint {path} cannot be read, it is corrupted or truncated "
                              f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}); "
                              "resume from an earlier checkpoint or start afresh") from error
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a course_lib training checkpoint (it was not written by "
                              "ModelCheckpoint / save_checkpoint)")
    if state["version"] != VERSION:
        raise CheckpointError(f"{path} is a checkpoint of format version {state['version']}, "
                              f"this course_lib reads version {VERSION}")
    return state


def architecture_mismatch(saved, model):
    """How `saved` (a state dict) differs from `model`'s parameters and buffers, as lines;
    empty when they match in names and shapes."""
    expected = model.state_dict()
    lines = [f"missing from the checkpoint: {name} {list(expected[name].shape)}"
             for name in expected if name not in saved]
    lines += [f"not in the model: {name} {list(saved[name].shape)}" for name in saved if name not in expected]
    lines += [f"{name}: checkpoint {list(saved[name].shape)}, model {list(expected[name].shape)}"
              for name in expected if name in saved and saved[name].shape != expected[name].shape]
    return lines


def restore_training_state(run, state, path="the checkpoint"):
    """Load model, optimizer, scheduler, counters and history of `state` into `run`.

    Callbacks and random states are restored separately (`restore_callback_states`,
    `restore_random_states`), as late as possible before the next epoch.
    """
    mismatch = architecture_mismatch(state["model"], run.model)
    if mismatch:
        raise CheckpointError(f"{path} was saved from a model of another architecture:\n  "
                              + "\n  ".join(mismatch)
                              + "\nbuild the model the saved run used, or start afresh without resume_from")
    for role, saved_class, current in (("optimizer", state["optimizer_class"], run.optimizer),
                                       ("scheduler", state["scheduler_class"], run.scheduler)):
        current_class = None if current is None else type(current).__name__
        if saved_class != current_class:
            raise CheckpointError(f"{path} was saved with {role} {saved_class} but this run has "
                                  f"{current_class}; pass the same kind of {role} to resume")
    run.model.load_state_dict(state["model"])
    try:
        run.optimizer.load_state_dict(state["optimizer"])
    except ValueError as error:
        raise CheckpointError(f"the optimizer state in {path} does not fit this optimizer ({error}); "
                              "build it over the same parameters, in the same groups") from error
    if run.scheduler is not None:
        run.scheduler.load_state_dict(state["scheduler"])
    run.epoch, run.global_step = state["epoch"], state["global_step"]
    run.history.load_state_dict(state["history"])


def restore_callback_states(callbacks, saved, path="the checkpoint"):
    """Give each callback the state its counterpart (same position, same class) saved."""
    saved_classes = [name for name, _ in saved]
    classes = [type(callback).__name__ for callback in callbacks]
    if saved_classes != classes:
        raise CheckpointError(f"{path} was saved by a run with callbacks {saved_classes}, this run has "
                              f"{classes}; pass the same callbacks in the same order to resume exactly")
    for callback, (_, state) in zip(callbacks, saved):
        callback.load_state_dict(state)
