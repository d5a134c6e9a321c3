"""Right answers to the schedule exercises of 04, as students write them, shared by the tests
of course_lib/checking/schedules."""
import math
# bound now: the tampering tests replace the builtins, and this answer's loop must still run
from builtins import min, range

from course_lib.checking.schedules import (
    check_cosine_annealing_lr, check_cyclic_lr, check_exponential_lr, check_lr_range_test, check_one_cycle_lr,
    check_reduce_lr_on_plateau, check_step_lr, check_warmup_cosine_lr,
)


def step_lr(epoch, *, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** (epoch // step_size)


def exponential_lr(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
    exponent = epoch // decay_epochs if staircase else epoch / decay_epochs
    return base_lr * gamma ** exponent


def cosine_annealing_lr(epoch, *, base_lr, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * epoch / T_max)) / 2


def warmup_cosine_lr(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if step < warmup_steps:
        return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
    return cosine_annealing_lr(step - warmup_steps, base_lr=base_lr,
                               T_max=total_steps - warmup_steps, eta_min=eta_min)


def one_cycle_lr(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False):
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    if three_phase:
        phases = [(float(pct_start * total_steps) - 1, initial_lr, max_lr),
                  (float(2 * pct_start * total_steps) - 2, max_lr, initial_lr),
                  (total_steps - 1, initial_lr, min_lr)]
    else:
        phases = [(float(pct_start * total_steps) - 1, initial_lr, max_lr),
                  (total_steps - 1, max_lr, min_lr)]
    phase_start = 0
    for index, (phase_end, start, end) in enumerate(phases):
        if step <= phase_end or index == len(phases) - 1:
            pct = (step - phase_start) / (phase_end - phase_start)
            return end + (start - end) / 2 * (1 + math.cos(math.pi * pct))
        phase_start = phase_end


def cyclic_lr(step, *, base_lr, max_lr, step_size_up=2000, step_size_down=None,
              mode="triangular", gamma=1.0):
    step_size_down = step_size_up if step_size_down is None else step_size_down
    cycle_length = step_size_up + step_size_down
    step_ratio = step_size_up / cycle_length
    cycle = math.floor(1 + step / cycle_length)
    x = 1 + step / cycle_length - cycle
    fraction = x / step_ratio if x <= step_ratio else (x - 1) / (step_ratio - 1)
    scale = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1), "exp_range": gamma ** step}[mode]
    return base_lr + (max_lr - base_lr) * fraction * scale


class ReduceLROnPlateau:
    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0):
        self.optimizer, self.mode, self.factor, self.patience = optimizer, mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.min_lr = cooldown, min_lr
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = 0

    def is_better(self, metric):
        sign = 1 if self.mode == "min" else -1
        if self.threshold_mode == "rel":
            return sign * metric < sign * self.best * (1 - sign * self.threshold)
        return sign * metric < sign * self.best - self.threshold

    def step(self, metrics):
        if self.is_better(metrics):
            self.best, self.num_bad_epochs = metrics, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self.optimizer.lr = max(self.optimizer.lr * self.factor, self.min_lr)
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0


def lr_range_test(train_step, *, start_lr=1e-5, end_lr=10.0, num_iter=1200, beta=0.95, diverge_th=5.0):
    lrs, losses, smoothed_losses = [], [], []
    average, lowest = 0.0, math.inf
    for i in range(num_iter):
        lr = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))
        loss = train_step(lr)
        average = beta * average + (1 - beta) * loss
        smoothed = average / (1 - beta ** (i + 1))
        lrs.append(lr)
        losses.append(loss)
        smoothed_losses.append(smoothed)
        if not math.isfinite(smoothed) or smoothed > diverge_th * lowest:
            break
        lowest = min(lowest, smoothed)
    return lrs, losses, smoothed_losses


def run_every_check():
    check_step_lr(step_lr)
    check_exponential_lr(exponential_lr)
    check_cosine_annealing_lr(cosine_annealing_lr)
    check_warmup_cosine_lr(warmup_cosine_lr)
    check_one_cycle_lr(one_cycle_lr)
    check_cyclic_lr(cyclic_lr)
    check_reduce_lr_on_plateau(ReduceLROnPlateau)
    check_lr_range_test(lr_range_test)



def cosine(t, base_lr, T_max, eta_min):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2
