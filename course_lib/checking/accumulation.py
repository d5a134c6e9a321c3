"""The check of gradient accumulation (assignment 06): `accumulated_step(model, loss_fn,
micro_batches, optimizer)` takes one optimizer step on the gradient of all the micro-batches
together — each mean loss weighted by its micro-batch's share of the samples — and returns
the loss of them all before the step.

Scenarios, simplest first: three micro-batches of 4 for a linear classifier with
cross-entropy; micro-batches of 4, 4 and 2 (a short last one); a tanh network with mean
squared error in micro-batches of 5 and 3. Each runs in float64 with SGD with momentum,
whose step() records the gradients it is asked to step on, and starts with a gradient left
in .grad as an earlier step would leave it. The expected gradient, parameters and loss come
from autograd and torch's SGD on the concatenated batch. A wrong gradient is explained by
the mistake that reproduces it (a small wrong function from the micro-batches' own
gradients, next to its sentence: unscaled losses, averaging by the number of micro-batches,
gradients zeroed between micro-batches, a gradient left from before), otherwise by what
differs; stepping after every micro-batch shows in the count of steps.

This exercise is about torch: the answer may use any of it, but not its course_lib
reference (see `harness`).
"""
from builtins import enumerate, float, len, list, range, sum, zip

import torch

from course_lib.training import accumulation as _accumulation

from ._trusted import isclose
from .failure import CheckFailure, fail, listing, mistake
from .harness import Answer, exercise
from .training import _forked, _RecordingSGD
from .values import check_array, check_scalar

ACCUMULATED_STEP = exercise(_accumulation.accumulated_step)

SCENARIOS = (  # task, micro-batch sizes
    ("classification", (4, 4, 4)),
    ("classification", (4, 4, 2)),
    ("regression", (5, 3)),
)
LR, MOMENTUM = 0.1, 0.9
RTOL, ATOL = 1e-9, 1e-12


# ---------------------------------------------------------------------------- mistakes
# Each takes the micro-batches' own mean-loss gradients (a list per micro-batch of one
# array per parameter) and their sizes, and returns the gradient the mistake steps on.

def _weighted(gradients, weights):
    return [sum(weight * parts[index] for weight, parts in zip(weights, gradients))
            for index in range(len(gradients[0]))]


@mistake("each micro-batch's loss is added unscaled, so the gradient is the sum of the "
         "micro-batches' mean gradients, as many times too large as there are micro-batches: "
         "multiply each loss by its share of the samples, len(targets) / total, before backward().")
def adds_unscaled_losses(gradients, sizes):
    return _weighted(gradients, [1.0] * len(sizes))


@mistake("each loss is divided by the number of micro-batches, which weighs the short last "
         "micro-batch as much as a full one: weigh each by its share of the samples, "
         "len(targets) / total.")
def averages_by_the_number_of_micro_batches(gradients, sizes):
    return _weighted(gradients, [1.0 / len(sizes)] * len(sizes))


@mistake("each loss is multiplied by its micro-batch's size but not divided by the total number "
         "of samples: that is the gradient of the summed loss, total times too large. Its share "
         "is len(targets) / total.")
def weighs_by_size_alone(gradients, sizes):
    return _weighted(gradients, [float(size) for size in sizes])


ZEROED_BETWEEN = ("only the last micro-batch's gradient reached optimizer.step(): a "
                  "zero_grad() between micro-batches erases what the earlier ones added. Zero "
                  "the gradients once, before the first micro-batch.")


@mistake(ZEROED_BETWEEN)
def zeroes_between_micro_batches(gradients, sizes):
    return _weighted(gradients[-1:], [sizes[-1] / sum(sizes)])


@mistake(ZEROED_BETWEEN)
def zeroes_between_micro_batches_averaged_by_count(gradients, sizes):
    return _weighted(gradients[-1:], [1.0 / len(sizes)])


@mistake(ZEROED_BETWEEN)
def zeroes_between_unscaled_micro_batches(gradients, sizes):
    return _weighted(gradients[-1:], [1.0])


def _right(gradients, sizes):
    return _weighted(gradients, [size / sum(sizes) for size in sizes])


MISTAKES = (adds_unscaled_losses, averages_by_the_number_of_micro_batches, weighs_by_size_alone,
            zeroes_between_micro_batches, zeroes_between_micro_batches_averaged_by_count,
            zeroes_between_unscaled_micro_batches)

LEFT_OVER = ("the gradient left in .grad from before the call was added to this step's: "
             ".backward() adds to .grad, so call optimizer.zero_grad() at the start, before the "
             "first micro-batch.")


# ---------------------------------------------------------------------------- scenarios

def _problem(task, sizes, seed):
    """(model, loss_fn, inputs, targets, left-over gradients) in float64."""
    total = sum(sizes)

    def build():
        if task == "classification":
            model, loss_fn = torch.nn.Linear(4, 3).double(), torch.nn.CrossEntropyLoss()
            inputs, targets = torch.randn(total, 4, dtype=torch.float64), torch.randint(0, 3, (total,))
        else:
            model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()
            loss_fn = torch.nn.MSELoss()
            inputs, targets = torch.randn(total, 5, dtype=torch.float64), torch.randn(total, 1, dtype=torch.float64)
        left_over = [torch.randn_like(parameter) for parameter in model.parameters()]
        return model, loss_fn, inputs, targets, left_over
    return _forked(seed, build)


def _gradients(model, loss_fn, inputs, targets):
    """(loss, gradients as arrays) of a mean loss, leaving `model` untouched."""
    with torch.enable_grad():
        loss = loss_fn(model(inputs), targets)
        gradients = torch.autograd.grad(loss, list(model.parameters()))
    return loss.item(), [gradient.numpy() for gradient in gradients]


def _all_close(arrays, others):
    for array, other in zip(arrays, others):
        if array is None or not isclose(array, other, rtol=RTOL, atol=ATOL).all():
            return False
    return True


def _book_step(model, gradients):
    """`model`'s parameters after one step of SGD with momentum on `gradients`: the first step
    starts the momentum buffer at the gradient itself, so it is parameter - lr * gradient.
    Written out rather than run through torch.optim, which looks up builtins the student's
    notebook may have replaced."""
    return [parameter.detach().numpy() - LR * gradient
            for parameter, gradient in zip(model.parameters(), gradients)]


def _explained_gradient(stepped, expected, own, sizes, left_over):
    """The sentence of the mistake (or mistakes) reproducing `stepped`, or None."""
    candidates = [(None, _right)] + [(wrong.explanation, wrong) for wrong in MISTAKES]
    for explanation, combine in candidates:
        combined = combine(own, sizes)
        for with_left_over in (False, True):
            wrong = [part + left for part, left in zip(combined, left_over)] if with_left_over else combined
            if not _all_close(stepped, wrong) or _all_close(wrong, expected):
                continue
            if explanation is None:
                return LEFT_OVER
            return f"{explanation} Also, {LEFT_OVER}" if with_left_over else explanation
    return None


def _all_none(arrays):
    for array in arrays:
        if array is not None:
            return False
    return True


def _check_steps(call, records, sizes):
    __tracebackhide__ = True
    count = len(records)
    if count == 1:
        return
    if count == 0:
        fail(f"{call} never called optimizer.step(): after the last micro-batch's backward(), one "
             f"optimizer.step() applies the accumulated gradient.")
    if count == len(sizes):
        fail(f"{call} called optimizer.step() {count} times, once per micro-batch: that is {count} "
             f"steps on small batches, not one on all {sum(sizes)} samples. Let the gradients add up "
             f"over the micro-batches and step once, after the last backward().")
    fail(f"{call} called optimizer.step() {count} times for {len(sizes)} micro-batches; one "
         f"accumulated step calls it once.")


def _check_gradient(call, names, stepped, expected, own, sizes, left_over):
    __tracebackhide__ = True
    if _all_close(stepped, expected):
        return
    when = f"when {call} called optimizer.step()"
    if _all_none(stepped):
        fail(f"{when}, the parameters had no gradients: call backward() on each micro-batch's loss "
             f"before the step.")
    explanation = _explained_gradient(stepped, expected, own, sizes, left_over)
    if explanation is not None:
        fail(f"{when}, the gradient was not that of all {sum(sizes)} samples together: {explanation}")
    for name, gradient, wanted in zip(names, stepped, expected):
        try:
            check_array(f"the gradient of {name}", gradient, wanted, rtol=RTOL, atol=ATOL, factor_hints={
                "the number of micro-batches": len(sizes), "the number of samples": sum(sizes)})
        except CheckFailure as failure:
            fail(f"{when}, {failure.message} Expected: the gradient of loss_fn on all the micro-batches' "
                 f"samples together.")


def _loss_mistakes(losses, sizes, loss_after):
    plain_mean = sum(losses) / len(losses)
    return [
        (losses[-1], "that is the last micro-batch's loss: return the loss of all the samples."),
        (sum(losses), "that is the sum of the micro-batches' mean losses: weigh each by its share "
                      "of the samples, len(targets) / total."),
        (plain_mean, "that is the plain average of the micro-batches' losses, which weighs the "
                     "short last one as much as a full one: weigh each by its share of the samples."),
        (loss_after, "that is the loss after the step: return the loss the step was computed from."),
    ]


def check_accumulated_step(accumulated_step, *, seed=0):
    """Run `accumulated_step(model, loss_fn, micro_batches, optimizer)` on three scenarios:
    micro-batches of 4, 4 and 4, then 4, 4 and 2 for a linear classifier with cross-entropy,
    then 5 and 3 for a tanh network with mean squared error, each in float64 with SGD with
    momentum and a gradient left in .grad. One optimizer.step(), on the gradient of all the
    samples together; afterwards the parameters of one step on the concatenated batch; the
    returned loss that of all the samples before the step. `seed` draws the data."""
    __tracebackhide__ = True
    answer = Answer(ACCUMULATED_STEP, accumulated_step)
    for position, (task, sizes) in enumerate(SCENARIOS):
        model, loss_fn, inputs, targets, left_over = _problem(task, sizes, seed + position)
        micro_batches = list(zip(inputs.split(list(sizes)), targets.split(list(sizes))))
        names = [name for name, _ in model.named_parameters()]
        loss, expected = _gradients(model, loss_fn, inputs, targets)
        own = [_gradients(model, loss_fn, *micro_batch) for micro_batch in micro_batches]
        book_parameters = _book_step(model, expected)

        for parameter, left in zip(model.parameters(), left_over):
            parameter.grad = left.clone()
        optimizer = _RecordingSGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        call = answer.words(model, loss_fn, micro_batches, optimizer)
        returned = answer.run(call, model, loss_fn, micro_batches, optimizer)
        try:
            _check_result(call, model, loss_fn, inputs, targets, optimizer.records, returned, sizes, names,
                          expected, own, left_over, book_parameters, loss)
        except CheckFailure as failure:
            raise CheckFailure(f"With micro-batches of {listing(sizes)} samples: {failure.message}") from None


def _check_result(call, model, loss_fn, inputs, targets, records, returned, sizes, names, expected, own,
                  left_over, book_parameters, loss):
    """The step the answer took and the loss it returned, against the book's."""
    __tracebackhide__ = True
    _check_steps(call, records, sizes)
    (_, stepped), = records
    _check_gradient(call, names, stepped, expected, [gradients for _, gradients in own], sizes,
                    [left.numpy() for left in left_over])
    for name, parameter, wanted in zip(names, model.parameters(), book_parameters):
        check_array(f"{name} after {call}", parameter.detach(), torch.from_numpy(wanted), rtol=RTOL, atol=ATOL,
                    hint="the gradient was right: change the parameters only through the one "
                         "optimizer.step().")
    loss_after = loss_fn(model(inputs), targets).item()
    check_scalar(call, returned, loss, rtol=RTOL, atol=ATOL,
                 known_mistakes=_loss_mistakes([micro_loss for micro_loss, _ in own], sizes, loss_after),
                 hint=f"return the loss of all {sum(sizes)} samples before the step, a float: the "
                      f"share-weighted sum of the micro-batches' losses.")
