"""`fit`: the course's training loop, with epochs, iterations and callbacks in plain sight.

One iteration is one optimizer step on one mini-batch: zero the gradients, forward, loss,
backward, measure (and optionally clip) the gradient's global norm, step, and step the
scheduler if it runs per iteration. One epoch is one pass over the training loader,
followed by validation, the per-epoch scheduler step and the callbacks.
"""
import time
from dataclasses import dataclass

import torch
from torch.nn.utils.rnn import PackedSequence
from tqdm.auto import tqdm

from ..errors import CourseError
from ..metrics import accuracy
from .callbacks import Callback
from .checkpoint import load_checkpoint, restore_callback_states, restore_random_states, restore_training_state
from .history import History
from .loop import batch_progress, model_outputs

SCHEDULER_INTERVALS = ("epoch", "iteration")
RESERVED_NAMES = ("loss", "lr", "grad_norm", "step", "epoch", "seconds")


@dataclass
class TrainingRun:
    """What callbacks see (as `callback.run`) and a checkpoint stores."""
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: object
    train_loader: object
    val_loader: object
    history: History
    callbacks: list
    epoch: int = 0  # epochs completed
    global_step: int = 0  # optimizer steps taken, over all epochs
    stop_training: bool = False


def fit(model, train_loader, *, loss_fn, optimizer, epochs, val_loader=None, scheduler=None,
        scheduler_interval="epoch", scheduler_monitor="val_loss", validate_every=None,
        clip_grad_norm=None, metrics=None, callbacks=(), resume_from=None, device=None,
        progress=True):
    """Train `model` for `epochs` passes over `train_loader`; returns the `History`.

    - `loss_fn(outputs, targets)` returns the batch's mean loss; `train_loader` yields
      (inputs, targets) pairs, moved to `device` (default: the model's). `inputs` is a
      tensor, or a tuple (or list) of tensors — (padded, lengths), (input, offsets) — which
      the model gets as separate arguments, `model(*inputs)`; batch sizes are counted by
      the targets.
    - `metrics`: {name: fn(outputs, targets) -> float}, computed per batch on the training
      outputs (before the step, in training mode) and on validation batches; epoch values
      are sample-weighted means over the batches. Default {"accuracy": accuracy} (for
      [N, C] scores, or [N] binary logits with 0/1 targets, int or float as
      `BCEWithLogitsLoss` takes them); pass {} for regression.
    - `scheduler` is stepped after the optimizer every iteration or at every epoch end
      (`scheduler_interval`); a ReduceLROnPlateau is stepped at epoch ends with the
      epoch's `scheduler_monitor` value (default "val_loss").
    - `val_loader` is evaluated at every epoch end and, with `validate_every=N`, also
      after every N-th optimizer step.
    - `clip_grad_norm=max_norm` rescales the gradients as
      `torch.nn.utils.clip_grad_norm_(parameters, max_norm)` does; the recorded grad_norm
      is always the norm before clipping. Sparse gradients (`nn.EmbeddingBag(sparse=True)`),
      which torch's clipping refuses, count and are clipped the same way.
    - `callbacks`: `Callback`s (EarlyStopping, ModelCheckpoint, ...).
    - `resume_from`: a checkpoint written by ModelCheckpoint; training continues after its
      epoch up to `epochs` in total, exactly as the uninterrupted run would have (pass
      the same kind of model, optimizer, scheduler, loaders and callbacks).
    """
    _check_arguments(epochs, scheduler, scheduler_interval, val_loader, validate_every,
                     clip_grad_norm, callbacks)
    metrics = {"accuracy": accuracy} if metrics is None else dict(metrics)
    _check_metric_names(metrics)
    if device is None:
        device = next(model.parameters()).device
    run = TrainingRun(model, optimizer, scheduler, train_loader, val_loader, History(), list(callbacks))
    saved = None
    if resume_from is not None:
        saved = load_checkpoint(resume_from)
        restore_training_state(run, saved, resume_from)
        if run.epoch > epochs:
            raise CourseError(f"the checkpoint {resume_from} is from epoch {run.epoch}, past epochs={epochs}; "
                              "epochs counts all epochs, including those before the checkpoint")
    for callback in run.callbacks:
        callback.run = run
        callback.on_train_begin()
    if saved is not None:
        restore_callback_states(run.callbacks, saved["callbacks"], resume_from)
        restore_random_states(saved["random_states"], [train_loader, val_loader])
    # checkpointing callbacks last, so what they save includes this epoch's other decisions
    epoch_end_order = sorted(run.callbacks, key=lambda callback: callback.saves_training_state)
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    validate = lambda: _evaluate(model, val_loader, loss_fn, metrics, device)  # noqa: E731

    for epoch in tqdm(range(run.epoch + 1, epochs + 1), desc="epochs", initial=run.epoch, total=epochs,
                      disable=not progress):
        model.train()
        start = time.perf_counter()
        sums, n_samples, last_validation = {}, 0, None
        batches = batch_progress(train_loader, desc=f"epoch {epoch}", progress=progress)
        for inputs, targets in train_loader:
            inputs, targets = _to(inputs, device), _to(targets, device)
            optimizer.zero_grad()  # .backward() adds to .grad, so clear the previous step's
            outputs = model_outputs(model, inputs)
            loss = loss_fn(outputs, targets)
            loss.backward()
            grad_norm = _gradient_norm(trainable, clip_grad_norm)
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            if scheduler is not None and scheduler_interval == "iteration":
                scheduler.step()
            run.global_step += 1
            record = {"step": run.global_step, "epoch": epoch, "loss": loss.item(),
                      **_metric_values(metrics, outputs.detach(), targets), "lr": lr, "grad_norm": grad_norm}
            run.history.iterations.append(record)
            # loss_fn and the metrics average over their batch; undo that so a small last
            # batch weighs less (counted by the targets: the inputs may be a tuple)
            batch_size = len(targets)
            for name in ("loss", *metrics):
                sums[name] = sums.get(name, 0.0) + record[name] * batch_size
            n_samples += batch_size
            if validate_every and run.global_step % validate_every == 0:
                last_validation = _log_validation(run, epoch, validate())
            for callback in run.callbacks:
                callback.on_iteration_end(run.global_step, record)
            batches.update()
        batches.close()
        if n_samples == 0:
            raise CourseError("the training loader yielded no batches; is its dataset empty, or "
                              "drop_last=True with fewer samples than batch_size?")
        logs = {"epoch": epoch, "step": run.global_step, **{name: total / n_samples for name, total in sums.items()}}
        if val_loader is not None:
            if last_validation is None or last_validation["step"] != run.global_step:
                last_validation = _log_validation(run, epoch, validate())
            logs.update({key: value for key, value in last_validation.items() if key.startswith("val_")})
        logs["lr"] = lr
        logs["seconds"] = time.perf_counter() - start
        if scheduler is not None and scheduler_interval == "epoch":
            _step_per_epoch(scheduler, scheduler_monitor, logs)
        run.history.epochs.append(logs)
        run.epoch = epoch
        for callback in epoch_end_order:
            callback.on_epoch_end(epoch, logs)
        if run.stop_training:
            break
    for callback in run.callbacks:
        callback.on_train_end()
    return run.history


def _check_arguments(epochs, scheduler, scheduler_interval, val_loader, validate_every, clip_grad_norm,
                     callbacks):
    if not isinstance(epochs, int) or epochs < 1:
        raise CourseError(f"epochs must be a whole number >= 1, got {epochs!r}")
    if scheduler_interval not in SCHEDULER_INTERVALS:
        raise CourseError(f'scheduler_interval must be "epoch" or "iteration", got {scheduler_interval!r}')
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau) and scheduler_interval != "epoch":
        raise CourseError('ReduceLROnPlateau reacts to a validation metric, which exists once per epoch: '
                          'use scheduler_interval="epoch"')
    if validate_every is not None:
        if val_loader is None:
            raise CourseError("validate_every needs a val_loader to validate on")
        if not isinstance(validate_every, int) or validate_every < 1:
            raise CourseError(f"validate_every counts optimizer steps, a whole number >= 1; got {validate_every!r}")
    if clip_grad_norm is not None and not clip_grad_norm > 0:
        raise CourseError(f"clip_grad_norm is the largest allowed gradient norm, > 0; got {clip_grad_norm!r} "
                          "(None: no clipping)")
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise CourseError(f"callbacks must be Callback instances, got {callback!r}"
                              + (" (a class: add the parentheses)" if isinstance(callback, type) else ""))


def _check_metric_names(metrics):
    for name, function in metrics.items():
        if name in RESERVED_NAMES or name.startswith("val_"):
            raise CourseError(f"a metric cannot be called {name!r}: fit logs that name itself "
                              f"({', '.join(RESERVED_NAMES)}, and val_<metric> for validation)")
        if not callable(function):
            raise CourseError(f"metrics[{name!r}] must be a function (outputs, targets) -> float, got {function!r}")


def _to(batch_part, device):
    """`batch_part` on `device`: a tensor (or a PackedSequence), or tuples and lists of
    them, nested to any depth; anything else as it is."""
    if isinstance(batch_part, (torch.Tensor, PackedSequence)):
        return batch_part.to(device)
    if type(batch_part) in (tuple, list):  # not namedtuples, whose fields are not a sequence of parts
        return type(batch_part)(_to(part, device) for part in batch_part)
    return batch_part


def _gradient_norm(parameters, max_norm):
    """The global L2 norm of the gradients before clipping; clips in place if max_norm."""
    gradients = [parameter.grad for parameter in parameters if parameter.grad is not None]
    if any(gradient.is_sparse for gradient in gradients):
        return _sparse_aware_gradient_norm(parameters, max_norm)
    if max_norm is not None:
        return float(torch.nn.utils.clip_grad_norm_(parameters, max_norm))
    return float(torch.nn.utils.get_total_norm(gradients)) if gradients else 0.0


def _sparse_aware_gradient_norm(parameters, max_norm):
    """What clip_grad_norm_ computes, for gradients of which some are sparse (torch's norm
    refuses them): a sparse gradient's norm is that of its values once repeated indices
    are summed (coalesce); the clipping factor max_norm / (norm + 1e-6), at most 1,
    scales every gradient, as torch's.

    Each sparse gradient is replaced by its coalesced twin — the same gradient — so that
    the optimizer, which coalesces it too (SparseAdam, SGD), finds the work done: sorting
    the ids of a batch of reviews (one per word, repeats and all) cost as much as the rest
    of a fastText step."""
    for parameter in parameters:
        if parameter.grad is not None and parameter.grad.is_sparse:
            parameter.grad = parameter.grad.coalesce()
    gradients = [parameter.grad for parameter in parameters if parameter.grad is not None]
    total_norm = torch.nn.utils.get_total_norm(
        [gradient.values() if gradient.is_sparse else gradient for gradient in gradients])
    if max_norm is not None:
        factor = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
        for gradient in gradients:
            gradient.mul_(factor)
    return float(total_norm)


def _metric_values(metrics, outputs, targets):
    values = {}
    for name, function in metrics.items():
        try:
            values[name] = float(function(outputs, targets))
        except Exception as error:
            raise CourseError(f"metric {name!r} failed on outputs of shape {list(outputs.shape)} and targets "
                              f"of shape {list(targets.shape)}: {error}; pass fit(..., metrics=...) with "
                              "metrics that suit the task (metrics={} for none)") from error
    return values


def _evaluate(model, loader, loss_fn, metrics, device):
    """Sample-weighted mean loss and metrics over `loader`, in eval mode without gradients."""
    was_training = model.training
    model.eval()  # dropout off, batch norm uses its running statistics
    sums, n_samples = {}, 0
    try:
        with torch.no_grad():
            for inputs, targets in loader:
                inputs, targets = _to(inputs, device), _to(targets, device)
                outputs = model_outputs(model, inputs)
                values = {"loss": loss_fn(outputs, targets).item(), **_metric_values(metrics, outputs, targets)}
                for name, value in values.items():
                    sums[name] = sums.get(name, 0.0) + value * len(targets)
                n_samples += len(targets)
    finally:
        model.train(was_training)
    if n_samples == 0:
        raise CourseError("the validation loader yielded no batches")
    return {f"val_{name}": total / n_samples for name, total in sums.items()}


def _log_validation(run, epoch, values):
    record = {"step": run.global_step, "epoch": epoch, **values}
    run.history.validations.append(record)
    return record


def _step_per_epoch(scheduler, monitor, logs):
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        if monitor not in logs:
            logged = sorted(key for key in logs if key not in ("epoch", "step"))
            raise CourseError(f"ReduceLROnPlateau is stepped with {monitor!r} (scheduler_monitor), which is not "
                              f"logged; the logged metrics are {logged}")
        scheduler.step(logs[monitor])
    else:
        scheduler.step()
