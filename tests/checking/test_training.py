import math
import time
from dataclasses import dataclass

import pytest
import torch

from course_lib.checking.failure import CheckFailure, DelegationFailure
from course_lib.checking.training import check_train_epoch, check_train_step
from course_lib.training import loop
from tests.checking.failures import failure_message
from tests.grading.answer_cells import solution
from tests.strategies import tampered

STEP_CALL = "train_step(model, inputs, targets, loss_fn, optimizer)"
EPOCH_CALL = "train_epoch(model, loader, loss_fn, optimizer)"


def train_step(model, inputs, targets, loss_fn, optimizer):
    """A right answer, written as a student would."""
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()


def train_epoch(model, loader, loss_fn, optimizer, *, progress=False):
    model.train()
    start = time.perf_counter()
    losses, sizes = [], []
    for inputs, targets in loader:
        losses.append(loop.train_step(model, inputs, targets, loss_fn, optimizer))  # handed out
        sizes.append(len(targets))
    return Stats(sum(l * n for l, n in zip(losses, sizes)) / sum(sizes), len(losses), time.perf_counter() - start)


@dataclass
class Stats:
    mean_loss: float
    steps: int
    seconds: float


@pytest.mark.parametrize("seed", range(3))
def test_right_loops_pass(seed):
    for step in (train_step, solution("01_epochs_iterations", "train_step")):
        check_train_step(step, seed=seed)
        check_train_step(step, seed=seed, task="regression")
    for epoch in (train_epoch, solution("01_epochs_iterations", "train_epoch")):
        check_train_epoch(epoch, seed=seed)
        check_train_epoch(epoch, seed=seed, progress=True)
        for batch_size in (5, 1, 64):
            check_train_epoch(epoch, seed=seed, batch_size=batch_size)


def test_checks_leave_the_students_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_train_step(train_step)
    check_train_step(train_step, task="regression")
    check_train_epoch(train_epoch)
    check_train_epoch(train_epoch, batch_size=5)
    torch.testing.assert_close(torch.rand(3), expected)


def test_answers_that_run_the_course_loop_fail():
    with pytest.raises(DelegationFailure, match="called course_lib.training.train_step, the course's own solution"):
        check_train_step(lambda model, inputs, targets, loss_fn, optimizer:
                         loop.train_step(model, inputs, targets, loss_fn, optimizer))
    with pytest.raises(DelegationFailure, match="called course_lib.training.train_epoch"):
        check_train_epoch(loop.train_epoch)


def test_a_blank_answer_gets_the_advice():
    def blank(model, inputs, targets, loss_fn, optimizer):
        raise NotImplementedError()
    assert failure_message(check_train_step, blank).startswith(
        f"{STEP_CALL} raised NotImplementedError: replace `raise NotImplementedError()`")


# Wrong train_step answers students write.

def no_zero_grad(model, inputs, targets, loss_fn, optimizer):
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()


def no_step(model, inputs, targets, loss_fn, optimizer):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    return loss.item()


def steps_twice(model, inputs, targets, loss_fn, optimizer):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    optimizer.step()
    return loss.item()


def no_backward(model, inputs, targets, loss_fn, optimizer):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    optimizer.step()
    return loss.item()


def zero_grad_after_backward(model, inputs, targets, loss_fn, optimizer):
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.zero_grad(set_to_none=False)
    optimizer.step()
    return loss.item()


def zero_grad_to_none_after_backward(model, inputs, targets, loss_fn, optimizer):
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()


def returns_the_tensor(model, inputs, targets, loss_fn, optimizer):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss


def returns_nothing(model, inputs, targets, loss_fn, optimizer):
    train_step(model, inputs, targets, loss_fn, optimizer)  # the right step above, without return


def returns_the_loss_after_the_step(model, inputs, targets, loss_fn, optimizer):
    train_step(model, inputs, targets, loss_fn, optimizer)
    return loss_fn(model(inputs), targets).item()


def uses_other_targets(model, inputs, targets, loss_fn, optimizer):
    return train_step(model, inputs, targets.flip(0), loss_fn, optimizer)


def makes_its_own_optimizer(model, inputs, targets, loss_fn, optimizer):
    return train_step(model, inputs, targets, loss_fn, torch.optim.SGD(model.parameters(), lr=0.1))


WRONG_STEPS = [
    (no_zero_grad, f"When the second call of {STEP_CALL} called optimizer.step(), the gradients were this batch's plus the previous step's: loss.backward() adds to .grad, so call optimizer.zero_grad() at the start of every step."),
    (no_step, f"{STEP_CALL} called optimizer.step() 0 times in its first call, but should call it once: one step per batch."),
    (steps_twice, f"{STEP_CALL} called optimizer.step() twice in its first call"),
    (no_backward, f"When the first call of {STEP_CALL} called optimizer.step(), the parameters had no gradients: call loss.backward() before optimizer.step()"),
    (zero_grad_to_none_after_backward, "not between backward() and step() (zero_grad() erases the fresh gradients)"),
    (zero_grad_after_backward, "every gradient was zero: is optimizer.zero_grad() called between loss.backward() and optimizer.step()?"),
    (returns_the_tensor, f"{STEP_CALL} returned a torch.Tensor of shape (), but a number is expected: .item() takes the number out."),
    (returns_nothing, f"{STEP_CALL} returned None, but a number is expected"),
    (returns_the_loss_after_the_step, "that is the loss after the update; return the loss the step was computed from."),
    (uses_other_targets, "the gradients were not those of loss_fn(model(inputs), targets) for this batch"),
    (makes_its_own_optimizer, f"{STEP_CALL} called optimizer.step() 0 times"),
]


@pytest.mark.parametrize("function, message", WRONG_STEPS, ids=[case[0].__name__ for case in WRONG_STEPS])
def test_wrong_train_steps_fail_with_the_reason(function, message):
    assert message in failure_message(check_train_step, function)


def always_cross_entropy(model, inputs, targets, loss_fn, optimizer):
    return train_step(model, inputs, targets, torch.nn.functional.cross_entropy, optimizer)


def test_a_step_that_ignores_loss_fn_fails_on_the_regression_task():
    check_train_step(always_cross_entropy)
    message = failure_message(check_train_step, always_cross_entropy, task="regression")
    assert "every gradient was zero, and the loss returned, -0, is not this batch's loss_fn(model(inputs), " \
           "targets) = 2.11387: compute the loss with the loss_fn passed in" in message


# Wrong train_epoch answers.

def epoch_with(summarise, *, set_train_mode=True, step=train_step):
    """A train_epoch whose loop is right, with the given way to sum up the batch losses."""

    def train_epoch(model, loader, loss_fn, optimizer):
        if set_train_mode:
            model.train()
        start = time.perf_counter()
        losses, sizes = [], []
        for inputs, targets in loader:
            losses.append(step(model, inputs, targets, loss_fn, optimizer))
            sizes.append(len(targets))
        return summarise(losses, sizes, time.perf_counter() - start)

    return train_epoch


def weighted(losses, sizes, seconds):
    return Stats(sum(l * n for l, n in zip(losses, sizes)) / sum(sizes), len(losses), seconds)


def steps_once_after_the_loop(model, loader, loss_fn, optimizer):
    model.train()
    optimizer.zero_grad()
    for inputs, targets in loader:
        loss_fn(model(inputs), targets).backward()
    optimizer.step()
    return Stats(0.0, 1, 0.001)


WRONG_EPOCHS = [
    (epoch_with(weighted, set_train_mode=False),
     f"{EPOCH_CALL} ran the model in eval mode: call model.train() at its start."),
    (steps_once_after_the_loop,
     f"{EPOCH_CALL} called optimizer.step() once for a loader of 3 batches, but should call it 3 times: one step per batch."),
    (epoch_with(weighted, step=no_zero_grad),
     f"When {EPOCH_CALL} stepped on batch 1, the gradients were this batch's plus the previous step's"),
    (epoch_with(lambda losses, sizes, seconds: Stats(sum(losses) / len(losses), len(losses), seconds)),
     f"{EPOCH_CALL}.mean_loss is {{}}, expected {{}}: that is the plain average of the batch losses; weight each by its batch size"),
    (epoch_with(lambda losses, sizes, seconds: Stats(sum(losses), len(losses), seconds)),
     "that is the sum of the batch losses, not their average."),
    (epoch_with(lambda losses, sizes, seconds: Stats(sum(l * n for l, n in zip(losses, sizes)), len(losses), seconds)),
     "that is the total loss over all samples; divide it by their number."),
    (epoch_with(lambda losses, sizes, seconds: Stats(losses[-1], len(losses), seconds)),
     "that is the last batch's loss alone; average over the whole epoch."),
    (epoch_with(lambda losses, sizes, seconds: None),
     f"{EPOCH_CALL} returned None, but should return the epoch's statistics, an object with .mean_loss, .steps and .seconds"),
    (epoch_with(lambda losses, sizes, seconds: weighted(losses, sizes, seconds).mean_loss),
     f"{EPOCH_CALL} returned a float, but should return the epoch's statistics"),
    (epoch_with(lambda losses, sizes, seconds: Stats(weighted(losses, sizes, seconds).mean_loss, sum(sizes), seconds)),
     f"{EPOCH_CALL}.steps is 10, expected 3."),
    (epoch_with(lambda losses, sizes, seconds: Stats(weighted(losses, sizes, seconds).mean_loss, len(losses), seconds * 1000)),
     f"{EPOCH_CALL}.seconds is"),
    (epoch_with(lambda losses, sizes, seconds: Stats(weighted(losses, sizes, seconds).mean_loss, len(losses), 0.0)),
     f"{EPOCH_CALL}.seconds is 0, but the call took"),
]


@pytest.mark.parametrize("function, message", WRONG_EPOCHS)
def test_wrong_train_epochs_fail_with_the_reason(function, message):
    actual = failure_message(check_train_epoch, function)
    assert all(part in actual for part in message.split("{}"))


def counts_batches_by_division(model, loader, loss_fn, optimizer, *, progress=False):
    stats = train_epoch(model, loader, loss_fn, optimizer)
    return Stats(stats.mean_loss, math.ceil(len(loader.dataset) / loader.batch_size), stats.seconds)


def calls_the_model_twice(model, loader, loss_fn, optimizer, *, progress=False):
    model.train()
    for inputs, _ in loader:
        model(inputs)  # a look at the outputs: in training mode, it draws dropout masks
    return train_epoch(model, loader, loss_fn, optimizer)


def without_progress(model, loader, loss_fn, optimizer):
    return train_epoch(model, loader, loss_fn, optimizer)


def test_a_loader_that_drops_its_last_batch_takes_only_the_full_batches():
    assert failure_message(check_train_epoch, counts_batches_by_division) == (
        f"{EPOCH_CALL} with a loader of 10 samples in batches of 4, drop_last=True.steps is 3, expected 2: the "
        f"loader yields only its 2 full batches: count the batches you trained on, not ⌈len(dataset) / batch_size⌉.")


def test_the_epoch_by_the_book_uses_the_same_random_draws():
    message = failure_message(check_train_epoch, calls_the_model_twice, batch_size=5)
    assert message.startswith(f"{EPOCH_CALL} with 23 samples, batch_size=5, dropout and momentum.mean_loss is")
    assert message.endswith("Hint: the same draws give the same dropout masks: call the model once per batch, "
                            "through reference_train_step.")


def test_progress_must_be_accepted():
    check_train_epoch(without_progress)
    assert failure_message(check_train_epoch, without_progress, progress=True).endswith(
        "Hint: the signature is train_epoch(model, loader, loss_fn, optimizer, *, progress=False).")


def test_training_checks_cannot_be_fooled_by_patched_numpy_or_torch():
    with tampered(builtin_names=()):
        check_train_step(train_step)
        check_train_epoch(train_epoch)
        with pytest.raises(CheckFailure) as caught:
            check_train_step(no_zero_grad)
    assert "the gradients were this batch's plus the previous step's" in str(caught.value)
