import pytest
import torch

from course_lib.checking.accumulation import (
    LEFT_OVER, ZEROED_BETWEEN, adds_unscaled_losses, averages_by_the_number_of_micro_batches,
    check_accumulated_step, weighs_by_size_alone,
)
from course_lib.checking.failure import CheckFailure, DelegationFailure
from course_lib.training import accumulated_step as reference
from course_lib.training import train_step
from tests.checking.failures import assert_fails_with, named
from tests.strategies import tampered

NAME = "accumulated_step"


def accumulated_step(model, loss_fn, micro_batches, optimizer):
    """A right answer, written as a student would."""
    total = sum(len(targets) for _, targets in micro_batches)
    optimizer.zero_grad()
    loss_sum = 0.0
    for inputs, targets in micro_batches:
        loss = loss_fn(model(inputs), targets) * len(targets) / total
        loss.backward()
        loss_sum += loss.item()
    optimizer.step()
    return loss_sum


def one_backward(model, loss_fn, micro_batches, optimizer):
    """Right too: the weighted losses summed first, one backward."""
    total = sum(len(targets) for _, targets in micro_batches)
    optimizer.zero_grad()
    loss = sum(loss_fn(model(inputs), targets) * len(targets) / total for inputs, targets in micro_batches)
    loss.backward()
    optimizer.step()
    return loss.item()


def accumulating(weight, *, zero_first=True, zero_between=False):
    """An answer that weighs each micro-batch's loss by weight(len(targets), total, count)."""
    def answer(model, loss_fn, micro_batches, optimizer):
        total = sum(len(targets) for _, targets in micro_batches)
        if zero_first:
            optimizer.zero_grad()
        losses = []
        for inputs, targets in micro_batches:
            if zero_between:
                optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            (loss * weight(len(targets), total, len(micro_batches))).backward()
            losses.append(loss.item() * len(targets) / total)
        optimizer.step()
        return sum(losses)
    return named(NAME, answer)


SHARE = lambda size, total, count: size / total  # noqa: E731
UNSCALED = lambda size, total, count: 1.0  # noqa: E731
BY_COUNT = lambda size, total, count: 1 / count  # noqa: E731


@pytest.mark.parametrize("seed", [0, 1, 5])
def test_right_answers_pass(seed):
    check_accumulated_step(accumulated_step, seed=seed)
    check_accumulated_step(one_backward, seed=seed)
    check_accumulated_step(accumulating(SHARE), seed=seed)


WRONG = [  # (answer, parts of the message)
    (accumulating(UNSCALED), ["With micro-batches of 4, 4 and 4 samples: when accumulated_step(model, loss_fn, "
                              "micro_batches, optimizer) called optimizer.step(), the gradient was not that of all 12 "
                              "samples together: " + adds_unscaled_losses.explanation]),
    (accumulating(BY_COUNT), ["With micro-batches of 4, 4 and 2 samples: when",
                              averages_by_the_number_of_micro_batches.explanation]),
    (accumulating(lambda size, total, count: size), [weighs_by_size_alone.explanation]),
    (accumulating(SHARE, zero_between=True), ["With micro-batches of 4, 4 and 4 samples:", ZEROED_BETWEEN]),
    (accumulating(BY_COUNT, zero_between=True), [ZEROED_BETWEEN]),
    (accumulating(UNSCALED, zero_between=True), [ZEROED_BETWEEN]),
    (accumulating(SHARE, zero_first=False), [f"together: {LEFT_OVER}"]),
    (accumulating(UNSCALED, zero_first=False), [f"{adds_unscaled_losses.explanation} Also, {LEFT_OVER}"]),
]


@pytest.mark.parametrize("answer, parts", WRONG, ids=range(len(WRONG)))
def test_wrong_gradients_are_named_by_the_mistake_that_reproduces_them(answer, parts):
    assert_fails_with(check_accumulated_step, answer, parts)


def test_stepping_after_every_micro_batch_is_counted():
    def steps_every_time(model, loss_fn, micro_batches, optimizer):
        return sum(train_step(model, inputs, targets, loss_fn, optimizer) for inputs, targets in micro_batches)
    assert_fails_with(check_accumulated_step, named(NAME, steps_every_time), [
        "With micro-batches of 4, 4 and 4 samples: accumulated_step(model, loss_fn, micro_batches, optimizer) called "
        "optimizer.step() 3 times, once per micro-batch"])

    def never_steps(model, loss_fn, micro_batches, optimizer):
        for inputs, targets in micro_batches:
            loss_fn(model(inputs), targets).backward()
    assert_fails_with(check_accumulated_step, named(NAME, never_steps), ["never called optimizer.step()"])


def test_an_unrecognised_gradient_is_described():
    message = assert_fails_with(check_accumulated_step, accumulating(lambda size, total, count: size / total / 2), [
        "the gradient of weight is off by a factor of ≈ 1/2",
        "Expected: the gradient of loss_fn on all the micro-batches' samples together."])
    assert "Also" not in message and ZEROED_BETWEEN not in message


def test_wrong_losses_are_named():
    def returns_the_last_loss(model, loss_fn, micro_batches, optimizer):
        inputs, targets = micro_batches[-1]
        with torch.no_grad():
            last = loss_fn(model(inputs), targets).item()
        accumulated_step(model, loss_fn, micro_batches, optimizer)
        return last

    def returns_the_plain_mean(model, loss_fn, micro_batches, optimizer):
        total = sum(len(targets) for _, targets in micro_batches)
        optimizer.zero_grad()
        losses = []
        for inputs, targets in micro_batches:
            loss = loss_fn(model(inputs), targets)
            (loss * len(targets) / total).backward()
            losses.append(loss.item())
        optimizer.step()
        return sum(losses) / len(losses)

    def returns_a_tensor(model, loss_fn, micro_batches, optimizer):
        return torch.tensor(accumulated_step(model, loss_fn, micro_batches, optimizer))

    assert_fails_with(check_accumulated_step, named(NAME, returns_the_last_loss), [
        "that is the last micro-batch's loss"])
    assert_fails_with(check_accumulated_step, named(NAME, returns_the_plain_mean), [
        "With micro-batches of 4, 4 and 2 samples: accumulated_step(model, loss_fn, micro_batches, optimizer) "
        "returned", "that is the plain average of the micro-batches' losses"])
    assert_fails_with(check_accumulated_step, named(NAME, returns_a_tensor), [".item() takes the number out"])


def test_changing_the_parameters_besides_the_step_fails():
    def also_decays(model, loss_fn, micro_batches, optimizer):
        loss = accumulated_step(model, loss_fn, micro_batches, optimizer)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.mul_(0.99)
        return loss
    assert_fails_with(check_accumulated_step, named(NAME, also_decays), [
        "change the parameters only through the one optimizer.step()"])


def test_an_answer_that_delegates_fails():
    with pytest.raises(DelegationFailure, match="called course_lib.training.accumulated_step"):
        check_accumulated_step(reference)


def test_a_blank_answer_gets_the_advice():
    def blank(model, loss_fn, micro_batches, optimizer):
        raise NotImplementedError()
    assert_fails_with(check_accumulated_step, named(NAME, blank), ["raised NotImplementedError: replace"])


def test_the_check_cannot_be_fooled_by_patched_numpy_or_torch():
    with tampered(builtin_names=()):  # lying builtins break torch's optimizer itself
        check_accumulated_step(accumulated_step)
        with pytest.raises(CheckFailure) as caught:
            check_accumulated_step(accumulating(UNSCALED))
    assert adds_unscaled_losses.explanation in str(caught.value)
