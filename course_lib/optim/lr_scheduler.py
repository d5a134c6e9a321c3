"""Learning-rate schedulers mirroring `torch.optim.lr_scheduler`: same names, arguments,
defaults, and the same values step by step.

A scheduler takes the optimizer first and writes the learning rate into
`optimizer.param_groups[0]["lr"]` (what `optimizer.lr` reads), exactly as torch's write into a
torch optimizer's param group. Construction already takes the first step (epoch 0), so the
optimizer holds the schedule's first rate before training starts; after each epoch (or
iteration) call `scheduler.step()`, after `optimizer.step(...)`.

As in torch, most schedulers are *chainable*: each step multiplies the current rate by a
factor instead of recomputing it from the initial one, so a rate set by hand in between is
kept, and the values can differ from the textbook closed form in the last digits.
Resuming with `last_epoch != -1` needs `param_groups[0]["initial_lr"]`, which the first
scheduler built with `last_epoch=-1` stored there (it comes back with the optimizer's
`load_state_dict`).
"""
import math
from bisect import bisect_right
from collections import Counter


class LRScheduler:
    """The base of the schedulers: holds the optimizer, `base_lrs` and `last_epoch`
    (the number of steps taken so far, 0 after construction); a subclass writes `get_lr()`,
    the rate for epoch `last_epoch` as a one-element list, as torch's does."""

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        group = optimizer.param_groups[0]
        if last_epoch == -1:
            group.setdefault("initial_lr", group["lr"])
        elif "initial_lr" not in group:
            raise KeyError("param 'initial_lr' is not specified in param_groups[0] when resuming "
                           "scheduler with last_epoch >= 0; load the optimizer's state_dict first")
        self.base_lrs = [group["initial_lr"]]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        # torch's "initial" step: chainable schedulers keep the current rate in it instead of
        # applying their factor (it matters when resuming with last_epoch != -1).
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self):
        """The learning rate for epoch `last_epoch`, as a one-element list."""
        raise NotImplementedError

    def step(self):
        """Advance one epoch (or iteration) and set the optimizer's learning rate."""
        self._update_lr()

    def _update_lr(self, epoch=None):
        # With an epoch (only SequentialLR passes one, 0, when it switches schedulers), jump
        # there and use the closed form where the scheduler has one, as torch does.
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            values = (self._get_closed_form_lr() if hasattr(self, "_get_closed_form_lr")
                      else self.get_lr())
        self.optimizer.param_groups[0]["lr"] = values[0]
        self._last_lr = [self.optimizer.param_groups[0]["lr"]]

    def get_last_lr(self):
        """The learning rate the last step set, as a one-element list (torch: one per group)."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimizer, as plain data (torch: `__dict__` minus the optimizer)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)

    @property
    def _lr(self):
        """The optimizer's current learning rate, which chainable schedulers multiply."""
        return self.optimizer.param_groups[0]["lr"]


class StepLR(LRScheduler):
    """Multiply the rate by `gamma` every `step_size` epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [self._lr]
        return [self._lr * self.gamma]

    def _get_closed_form_lr(self):
        return [self.base_lrs[0] * self.gamma ** (self.last_epoch // self.step_size)]


class MultiStepLR(LRScheduler):
    """Multiply the rate by `gamma` at each epoch in `milestones` (a milestone given twice
    multiplies by gamma**2, as torch counts them)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return [self._lr]
        return [self._lr * self.gamma ** self.milestones[self.last_epoch]]

    def _get_closed_form_lr(self):
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [self.base_lrs[0] * self.gamma ** passed]


class LambdaLR(LRScheduler):
    """The initial rate times `lr_lambda(epoch)`, a function of the epoch you write."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambda = lr_lambda
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.base_lrs[0] * self.lr_lambda(self.last_epoch)]

    def state_dict(self):
        # torch leaves out a function it cannot pickle; so do we (a lambda cannot be copied)
        return {key: value for key, value in super().state_dict().items() if key != "lr_lambda"}


class ExponentialLR(LRScheduler):
    """Multiply the rate by `gamma` every epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return [self._lr]
        return [self._lr * self.gamma]

    def _get_closed_form_lr(self):
        return [self.base_lrs[0] * self.gamma ** self.last_epoch]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from the initial rate down to `eta_min` over `T_max` epochs, then back up
    again: the closed form is eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2,
    and it keeps going (a full cosine period is 2 * T_max) after T_max."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, lr, base_lr, eta_min = self.last_epoch, self._lr, self.base_lrs[0], self.eta_min
        if self._is_initial:
            return [lr]
        if (t - 1 - self.T_max) % (2 * self.T_max) == 0:
            # At the bottom of the cosine the ratio below would be 0/0: torch adds the
            # increment of the closed form instead.
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2]
        # The chainable form: the ratio of the closed form's distances to eta_min at t and t-1.
        ratio = (1 + math.cos(math.pi * t / self.T_max)) / (1 + math.cos(math.pi * (t - 1) / self.T_max))
        return [eta_min + ratio * (lr - eta_min)]

    def _get_closed_form_lr(self):
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (self.base_lrs[0] - self.eta_min) * cosine]


class LinearLR(LRScheduler):
    """Scale the initial rate by a factor going linearly from `start_factor` to `end_factor`
    over `total_iters` epochs, then keep it (the usual warmup)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t = self.last_epoch
        if t == 0:
            return [self._lr * self.start_factor]
        if self._is_initial or t > self.total_iters:
            return [self._lr]
        # The chainable form: factor(t) / factor(t-1), with factor(t) the closed form's factor
        # (multiplied through by total_iters).
        change = self.end_factor - self.start_factor
        return [self._lr * (1.0 + change / (self.total_iters * self.start_factor + (t - 1) * change))]

    def _get_closed_form_lr(self):
        progress = min(self.total_iters, self.last_epoch) / self.total_iters
        return [self.base_lrs[0] * (self.start_factor + (self.end_factor - self.start_factor) * progress)]


class SequentialLR(LRScheduler):
    """Run `schedulers` one after another, switching at the epochs in `milestones`
    (e.g. LinearLR warmup, then CosineAnnealingLR from milestone `warmup` on)."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler, but got no scheduler.")
        for index, scheduler in enumerate(schedulers):
            if not hasattr(scheduler, "optimizer"):
                raise TypeError(f"{name} at index {index} should have `optimizer` as its attribute.")
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(f"{name} does not support `ReduceLROnPlateau` scheduler as it requires "
                                 f"additional kwargs to be specified when calling `step`, but got one "
                                 f"at index {index} in the given schedulers sequence.")
            if optimizer is not scheduler.optimizer:
                raise ValueError(f"{name} expects all schedulers to belong to the same optimizer, but "
                                 f"got scheduler {type(scheduler).__name__} at index {index} with a "
                                 f"different optimizer.")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"Sequential Schedulers expects number of schedulers provided to be one more "
                             f"than the number of milestone points, but got number of schedulers "
                             f"{len(schedulers)} and the number of milestones to be equal to {len(milestones)}")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # Every scheduler already took its first step when it was built, each changing the
        # rate; torch undoes them and re-takes only the first scheduler's.
        optimizer.param_groups[0]["lr"] = optimizer.param_groups[0]["initial_lr"]
        for scheduler in self._schedulers:
            _undo_one_step(scheduler)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self):
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)  # the next scheduler starts afresh at its epoch 0
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        for scheduler, saved in zip(self._schedulers, state.pop("_schedulers")):
            scheduler.load_state_dict(saved)
        self.__dict__.update(state)


def _undo_one_step(scheduler):
    if hasattr(scheduler, "_schedulers"):
        for inner in scheduler._schedulers:
            _undo_one_step(inner)
    elif hasattr(scheduler, "last_epoch"):
        scheduler.last_epoch -= 1


class CyclicLR(LRScheduler):
    """Cycle the rate between `base_lr` and `max_lr` (Smith's cyclical learning rates): up
    for `step_size_up` iterations, down for `step_size_down` (default: as many), the
    amplitude scaled per cycle ("triangular": 1, "triangular2": halved each cycle) or per
    iteration ("exp_range": gamma**iteration), or by your `scale_fn` of the cycle number or
    the iteration (`scale_mode`). With `cycle_momentum`, the momentum (or Adam's beta1)
    cycles the other way, between `max_momentum` and `base_momentum`."""

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True,
                 base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        group = optimizer.param_groups[0]
        base_lr = _one_value("base_lr", base_lr)
        if last_epoch == -1:
            group["lr"] = base_lr
        self.max_lrs = [_one_value("max_lr", max_lr)]
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        # The built-in modes fix the scale mode, whatever scale_mode says.
        self.scale_mode = scale_mode if scale_fn is not None else (
            "iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            _check_momentum(group)
            self.use_beta1 = "betas" in group
            self.base_momentums = [_one_value("base_momentum", base_momentum)]
            self.max_momentums = [_one_value("max_momentum", max_momentum)]
            if last_epoch == -1:
                _set_momentum(group, self.use_beta1, self.max_momentums[0])
                group["max_momentum"] = self.max_momentums[0]
                group["base_momentum"] = self.base_momentums[0]
        super().__init__(optimizer, last_epoch)
        # Set after the initial step, as torch does: a resumed scheduler's initial step
        # starts from "initial_lr".
        self.base_lrs = [base_lr]

    def scale_fn(self, x):
        """The amplitude's scale at cycle (or iteration) x."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)  # counted from 1
        x = 1.0 + self.last_epoch / self.total_size - cycle  # position in the cycle, in [0, 1)
        # The fraction of the way up: rising to 1 over the first step_ratio, then falling.
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lr = self.base_lrs[0] + (self.max_lrs[0] - self.base_lrs[0]) * scale_factor * scale
        if self.cycle_momentum:
            momentum = self.max_momentums[0] - (self.max_momentums[0] - self.base_momentums[0]) * scale_factor * scale
            _set_momentum(self.optimizer.param_groups[0], self.use_beta1, momentum)
        return [lr]

    def state_dict(self):
        """As torch: a custom scale_fn is not saved (keep passing it to the constructor)."""
        state = super().state_dict()
        state["_scale_fn_custom"] = None
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        state.pop("_scale_fn_custom", None)
        super().load_state_dict(state)


class OneCycleLR(LRScheduler):
    """The one-cycle policy, stepped every iteration for `total_steps` (or
    `epochs * steps_per_epoch`) iterations: the rate rises from max_lr / div_factor to
    `max_lr` over the first `pct_start` of the steps, then anneals to
    max_lr / (div_factor * final_div_factor) ("cos" or "linear"); momentum (or Adam's beta1)
    moves the other way between `max_momentum` and `base_momentum`. With `three_phase`, the
    rate comes back down to the initial rate symmetrically before the final annealing."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        group = optimizer.param_groups[0]
        if total_steps is not None:
            if total_steps <= 0 or not isinstance(total_steps, int):
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        # Each phase goes from one key of the param group to another; phases end at a
        # (fractional) step, the last one at total_steps - 1.
        warmup_end = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                dict(end_step=warmup_end, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=float(2 * pct_start * self.total_steps) - 2, start_lr="max_lr",
                     end_lr="initial_lr", start_momentum="base_momentum", end_momentum="max_momentum"),
                dict(end_step=self.total_steps - 1, start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum"),
            ]
        else:
            self._schedule_phases = [
                dict(end_step=warmup_end, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=self.total_steps - 1, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
            ]
        # torch insists on a float here: pct_start=1 is refused
        if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._anneal_func_type = anneal_strategy
        max_lr = _one_value("max_lr", max_lr)
        if last_epoch == -1:
            # torch keeps the schedule's corner values in the param group itself
            group["initial_lr"] = max_lr / div_factor
            group["max_lr"] = max_lr
            group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            _check_momentum(group)
            self.use_beta1 = "betas" in group
            max_momentum = _one_value("max_momentum", max_momentum)
            base_momentum = _one_value("base_momentum", base_momentum)
            if last_epoch == -1:
                _set_momentum(group, self.use_beta1, max_momentum)
                group["max_momentum"] = max_momentum
                group["base_momentum"] = base_momentum
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        """From `start` (pct = 0) to `end` (pct = 1)."""
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps is {self.total_steps}")
        group = self.optimizer.param_groups[0]
        start_step = 0.0
        for index, phase in enumerate(self._schedule_phases):
            end_step = phase["end_step"]
            if step <= end_step or index == len(self._schedule_phases) - 1:
                # torch lets step reach total_steps, one past the end: pct is then above 1
                pct = (step - start_step) / (end_step - start_step)
                lr = self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                if self.cycle_momentum:
                    momentum = self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                    _set_momentum(group, self.use_beta1, momentum)
                return [lr]
            start_step = end_step


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rate by `factor` (not below `min_lr`) when the metric passed to
    `step(metric)` has not improved for more than `patience` epochs, then wait `cooldown`
    epochs before counting again. "Improved" means better than the best so far by more than
    `threshold` (relative to the best with threshold_mode="rel", absolute with "abs"), lower
    with mode="min", higher with mode="max". A reduction smaller than `eps` is skipped.

    A subclass of LRScheduler as in torch, for `get_last_lr` and the state dict, but with
    its own constructor and step: it follows a metric, not a schedule."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        self.factor = factor
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != 1:
                raise ValueError(f"expected 1 min_lrs, got {len(min_lr)}")
            self.min_lrs = list(min_lr)
        else:
            self.min_lrs = [min_lr]
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = [self._lr]
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode} is unknown!")
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics):
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            # epochs in cooldown never count as bad
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [self._lr]

    def _reduce_lr(self):
        old_lr = float(self._lr)
        new_lr = max(old_lr * self.factor, self.min_lrs[0])
        if old_lr - new_lr > self.eps:
            self.optimizer.param_groups[0]["lr"] = new_lr

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (1.0 + self.threshold)
        return a > best + self.threshold


def _check_optimizer(optimizer):
    # Duck typing where torch checks isinstance(optimizer, Optimizer): anything holding
    # torch-style param_groups will do.
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or len(groups) != 1 or "lr" not in groups[0]:
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer "
                        f"(expected param_groups: a list of one dict holding 'lr')")


def _one_value(name, value):
    """A hyperparameter given as a number or, as torch accepts, a list with one per group."""
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(value)} values, param_groups has 1.")
        return value[0]
    return value


def _check_momentum(group):
    if "momentum" not in group and "betas" not in group:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")


def _set_momentum(group, use_beta1, momentum):
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum
