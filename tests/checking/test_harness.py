import sys
import warnings

import numpy as np
import pytest
import torch

from course_lib.checking.failure import NOT_IMPLEMENTED, CheckFailure, DelegationFailure
from course_lib.checking.harness import SHAPE_HINT, Answer, exercise, trusted
from course_lib.data import minibatch_indices
from course_lib.optim import sgd_update
from course_lib.scratch.backward import relu_backward
from course_lib.scratch.functional import softmax
from course_lib.training import EarlyStopping, train_step
from tests.strategies import tampered

SOFTMAX = exercise(softmax, forbidden=(torch.softmax, torch.Tensor.softmax))
RELU_BACKWARD = exercise(relu_backward)
SGD_UPDATE = exercise(sgd_update, mutates=("param", "state"))
MINIBATCH_INDICES = exercise(minibatch_indices)
EARLY_STOPPING = exercise(EarlyStopping)
TRAIN_STEP = exercise(train_step)
X = np.random.default_rng(0).standard_normal((3, 4))


def own_softmax(input, dim):
    exponentials = np.exp(input - input.max(axis=dim, keepdims=True))
    return exponentials / exponentials.sum(axis=dim, keepdims=True)


def failure_of(action):
    """The message action() fails with (the test fails if it passes)."""
    with pytest.raises(CheckFailure) as caught:
        action()
    return str(caught.value)


def message_of(answer, *args, **kwargs):
    return failure_of(lambda: answer(*args, **kwargs))


def run_sgd(update, steps=2):
    param, state = np.ones(3), {}
    answer = Answer(SGD_UPDATE, update)
    for _ in range(steps):
        answer(param, np.full(3, 0.5), state, lr=0.1, momentum=0.9)
    return param, state


# ------------------------------------------------------------------------------ exercises

def test_an_exercise_takes_name_signature_and_parameters_from_its_reference():
    assert SOFTMAX.name == "softmax"
    assert SOFTMAX.signature == "softmax(input, dim)"
    assert SOFTMAX.parameters == ("input", "dim")
    assert SGD_UPDATE.signature.startswith("sgd_update(param, grad, state, *, lr=0.001, momentum=0")
    assert EARLY_STOPPING.signature.startswith("EarlyStopping(monitor='val_loss', mode='auto'")
    assert SOFTMAX.watchlist.names == ("course_lib.scratch.softmax", "torch.softmax", "torch.Tensor.softmax")
    with pytest.raises(ValueError, match="not parameters"):
        exercise(softmax, mutates=("x",))


def test_calls_are_written_with_the_signatures_parameter_names_and_plain_values():
    answer = Answer(SOFTMAX, own_softmax)
    assert answer.words(X, dim=-1) == "softmax(input, dim=-1)"
    assert answer.words(X, 0) == "softmax(input, 0)"
    indices = Answer(MINIBATCH_INDICES, minibatch_indices)
    assert (indices.words(100, np.int64(32), np.random.default_rng(), shuffle=False, drop_last=True)
            == "minibatch_indices(100, 32, rng, shuffle=False, drop_last=True)")
    assert Answer(SGD_UPDATE, sgd_update).words(X, X, {}, lr=0.5) == "sgd_update(param, grad, state, lr=0.5)"


def test_a_right_answer_runs_and_its_result_comes_back():
    np.testing.assert_allclose(Answer(SOFTMAX, own_softmax)(X, dim=1), softmax(X, 1))


def test_an_answer_that_is_not_a_function_fails_at_once():
    with pytest.raises(CheckFailure, match="softmax is None, not a function: run the answer cell that "
                                           r"defines it \(def softmax\(input, dim\): ...\)"):
        Answer(SOFTMAX, None)


# ---------------------------------------------------------------------------- delegation

@pytest.mark.parametrize("delegating, name", [
    (softmax, "course_lib.scratch.softmax"),
    (lambda input, dim: torch.softmax(torch.from_numpy(input), dim).numpy(), "torch.softmax"),
    (lambda input, dim: torch.from_numpy(input).softmax(dim).numpy(), "torch.Tensor.softmax"),
])
def test_a_delegating_answer_fails_with_a_delegation_failure_naming_what_ran(delegating, name):
    with pytest.raises(DelegationFailure) as caught:
        Answer(SOFTMAX, delegating)(X, dim=1)
    assert isinstance(caught.value, CheckFailure)
    assert str(caught.value).startswith(f"softmax(input, dim=1) called {name}, ")
    assert "the exercise asks for your own code, so write the computation yourself" in str(caught.value)
    if name.startswith("course_lib"):
        assert "the course's own solution of this exercise" in str(caught.value)
    else:
        assert "which does what this exercise asks you to write" in str(caught.value)


def test_an_answer_that_switches_the_watch_off_fails_too():
    def sneaky(input, dim):
        sys.setprofile(None)
        return softmax(input, dim)

    with pytest.raises(DelegationFailure, match=r"switched off or replaced the profiler \(sys.setprofile\)"):
        Answer(SOFTMAX, sneaky)(X, dim=1)
    assert sys.getprofile() is None


def test_a_trusted_callback_may_run_what_the_answer_may_not():
    reference = trusted(softmax)
    Answer(SOFTMAX, lambda input, dim: reference(input, dim))(X, dim=1)


def test_a_checkers_verdict_from_a_callback_passes_unchanged():
    def callback(values):
        raise CheckFailure("f was called with an array of the wrong shape.")

    with pytest.raises(CheckFailure) as caught:
        Answer(SOFTMAX, lambda input, dim: callback(input))(X, dim=1)
    assert str(caught.value) == "f was called with an array of the wrong shape."


def test_the_profiler_is_put_back_after_a_crash_and_an_interrupt():
    with pytest.raises(CheckFailure):
        Answer(SOFTMAX, lambda input, dim: 1 / 0)(X, dim=1)
    assert sys.getprofile() is None

    def interrupted(input, dim):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Answer(SOFTMAX, interrupted)(X, dim=1)
    assert sys.getprofile() is None


# ------------------------------------------------------------------------------- crashes

def test_a_blank_answer_gets_the_not_implemented_advice():
    def blank(input, dim):
        raise NotImplementedError()

    assert message_of(Answer(SOFTMAX, blank), X, dim=1) == \
        f"softmax(input, dim=1) raised NotImplementedError: {NOT_IMPLEMENTED}"


def test_parameters_that_dont_fit_the_signature_get_the_signature():
    message = message_of(Answer(SOFTMAX, lambda x: x), X, dim=1)
    assert message.startswith("softmax(input, dim=1) raised TypeError: ")
    assert message.endswith("\nHint: the signature is softmax(input, dim).")


def test_a_type_error_inside_the_answer_gets_no_signature_hint():
    message = message_of(Answer(SOFTMAX, lambda input, dim: np.sum(input, dim=dim)), X, dim=1)
    assert "raised TypeError" in message and "Hint" not in message


@pytest.mark.parametrize("crashing", [
    lambda input, dim: input + np.ones(5),
    lambda input, dim: input @ input,
    lambda input, dim: torch.from_numpy(input) + torch.ones(5),
    lambda input, dim: torch.from_numpy(input) @ torch.from_numpy(input),
])
def test_a_shape_error_gets_the_checks_shape_hint_or_the_general_one(crashing):
    assert message_of(Answer(SOFTMAX, crashing), X, dim=1).endswith(f"\nHint: {SHAPE_HINT}")
    answer = Answer(SOFTMAX, crashing, shape_hint="keep the reduced axis: keepdims=True.")
    assert message_of(answer, X, dim=1).endswith("\nHint: keep the reduced axis: keepdims=True.")


def test_any_other_crash_names_the_call_and_the_error_and_a_checks_advice_comes_first():
    answer = Answer(SGD_UPDATE, lambda param, grad, state, lr, momentum: state["momentum_buffer"])
    assert message_of(answer, X.copy(), X, {}, lr=0.1, momentum=0.9) == \
        "sgd_update(param, grad, state, lr=0.1, momentum=0.9) raised KeyError: 'momentum_buffer'"
    answer = Answer(SGD_UPDATE, answer.function,
                    advice=lambda error: "create the buffers on the first step." if isinstance(error, KeyError) else None)
    assert message_of(answer, X.copy(), X, {}, lr=0.1, momentum=0.9).endswith(
        "\nHint: create the buffers on the first step.")


def test_file_paths_of_the_machine_are_cut_from_messages():
    def reading(input, dim):
        open("/tmp/grader-k2x9/kernel/work/data.npy")

    message = message_of(Answer(SOFTMAX, reading), X, dim=1)
    assert "/tmp" not in message and "grader-k2x9" not in message
    assert message == "softmax(input, dim=1) raised FileNotFoundError: [Errno 2] No such file or directory: 'data.npy'"


# --------------------------------------------------------------------------------- quiet

def test_the_answer_runs_without_warnings_output_or_floating_point_errors(capfd, recwarn):
    def noisy(input, dim):
        print("debugging", input.shape)
        print("to stderr", file=sys.stderr)
        warnings.warn("careful", RuntimeWarning)
        return np.exp(np.abs(input) * 1000) / 0

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = Answer(SOFTMAX, noisy)(X, dim=1)
    assert np.isinf(result).all()
    assert capfd.readouterr() == ("", "")
    assert len(recwarn) == 0


# ------------------------------------------------------------------------ in-place changes

def in_place_relu_backward(grad_output, input):
    grad_output[input <= 0] = 0
    return grad_output


def test_an_argument_changed_in_place_fails_and_the_callers_array_stays_as_it_was():
    grad_output, input = X.copy(), X - 0.5
    message = message_of(Answer(RELU_BACKWARD, in_place_relu_backward), grad_output, input)
    assert message.startswith(
        "relu_backward(grad_output, input) changed its argument grad_output in place: `grad_output -= ...`, "
        "`grad_output *= ...` or an assignment such as `grad_output[mask] = 0` writes into the caller's array")
    np.testing.assert_array_equal(grad_output, X)


def test_nan_counts_as_unchanged():
    grad_output = np.array([np.nan, 1.0])
    Answer(RELU_BACKWARD, lambda grad_output, input: grad_output * (input > 0))(grad_output, np.ones(2))


def test_tensors_dicts_and_lists_are_handed_over_as_copies_and_compared():
    def tensor_changed(model, inputs, targets, loss_fn, optimizer):
        inputs.mul_(2)
    model = torch.nn.Linear(2, 1)
    arguments = (model, torch.ones(3, 2), torch.zeros(3, 1), torch.nn.MSELoss(),
                 torch.optim.SGD(model.parameters(), lr=0.1))
    assert "changed its argument inputs in place" in message_of(Answer(TRAIN_STEP, tensor_changed), *arguments)
    assert "work on inputs.clone()" in message_of(Answer(TRAIN_STEP, tensor_changed), *arguments)

    relu = exercise(relu_backward)
    assert message_of(Answer(relu, lambda grad_output, input: grad_output.pop("W")), {"W": X, "b": X[0]}, X) == (
        "relu_backward(grad_output, input) changed the dict grad_output (its keys are now 'b', they were 'W', "
        "'b'): build a new dict for the result and leave grad_output as it is — the caller still needs it.")
    nested = [(X.copy(), X.copy())]
    assert "changed its argument grad_output[0][1] in place" in message_of(
        Answer(relu, lambda grad_output, input: grad_output[0][1].fill(0)), nested, X)
    assert "changed the list input (it now holds 2 items, it held 1)" in message_of(
        Answer(relu, lambda grad_output, input: input.append(1)), X, [1])


def own_sgd(param, grad, state, *, lr, momentum):
    buffer = state.setdefault("momentum_buffer", np.zeros_like(param))
    buffer *= momentum
    buffer += grad
    param -= lr * buffer


def test_mutated_arguments_are_handed_over_as_they_are():
    param, state = run_sgd(own_sgd)
    np.testing.assert_allclose(param, 1 - 0.1 * 0.5 - 0.1 * (0.9 * 0.5 + 0.5))
    assert set(state) == {"momentum_buffer"}


def test_an_array_passed_twice_is_copied_once():
    seen = []
    Answer(RELU_BACKWARD, lambda grad_output, input: seen.append(grad_output is input))(X, X)
    assert seen == [True]


# ------------------------------------------------------------------------------- aliasing

def aliasing_sgd(param, grad, state, *, lr, momentum):
    if "momentum_buffer" not in state:
        state["momentum_buffer"] = grad  # the gradient itself, not a copy
    else:
        state["momentum_buffer"] *= momentum
        state["momentum_buffer"] += grad
    param -= lr * state["momentum_buffer"]


def test_state_that_keeps_an_input_array_itself_fails():
    message = failure_of(lambda: run_sgd(aliasing_sgd))
    assert message.startswith(
        "sgd_update(param, grad, state, lr=0.1, momentum=0.9) keeps its argument grad itself (or a view of it) "
        "in state['momentum_buffer']: the two share memory")
    assert message.endswith("Store a copy: state['momentum_buffer'] = grad.copy().")


def test_state_that_keeps_a_view_of_an_input_fails_and_a_copy_passes():
    def view(param, grad, state, *, lr, momentum):
        state.setdefault("momentum_buffer", grad[:])
        param -= lr * grad

    assert "keeps its argument grad itself (or a view of it)" in failure_of(lambda: run_sgd(view))

    run_sgd(own_sgd)


def test_a_fresh_result_must_not_share_memory_with_an_input():
    fresh = exercise(relu_backward, fresh_result=True)
    message = message_of(Answer(fresh, lambda grad_output, input: grad_output), X, X.copy())
    assert message.startswith("relu_backward(grad_output, input) returned its argument grad_output itself "
                              "(or a view of it) as the result")
    assert "returned its argument input itself (or a view of it) as the result[1]" in message_of(
        Answer(fresh, lambda grad_output, input: (grad_output * 1, input[::2])), X, X.copy())
    Answer(RELU_BACKWARD, lambda grad_output, input: grad_output)(X, X)  # not asked for: allowed


# ------------------------------------------------------------------- generators and classes

def test_a_generators_items_are_collected_under_the_watch():
    answer = Answer(MINIBATCH_INDICES, lambda n, b, rng, **options: (np.arange(n)[i:i + b] for i in range(0, n, b)))
    batches = answer.collect("minibatch_indices(10, 4, rng)", answer(10, 4, None), limit=100)
    assert [len(batch) for batch in batches] == [4, 4, 2]

    def delegating(n_samples, batch_size, rng, **options):
        yield from minibatch_indices(n_samples, batch_size, rng, **options)

    answer = Answer(MINIBATCH_INDICES, delegating)
    generator = answer(10, 4, np.random.default_rng(0))  # its body has not run yet
    with pytest.raises(DelegationFailure, match="called course_lib.data.minibatch_indices"):
        answer.collect("minibatch_indices(10, 4, rng)", generator, limit=100)


def test_a_crash_while_a_generator_runs_names_the_call():
    def blank(n_samples, batch_size, rng, **options):
        raise NotImplementedError()
        yield

    answer = Answer(MINIBATCH_INDICES, blank)
    assert failure_of(lambda: answer.collect("minibatch_indices(10, 4, rng)", answer(10, 4, None), limit=9)) == \
        f"minibatch_indices(10, 4, rng) raised NotImplementedError: {NOT_IMPLEMENTED}"


class StudentStopper:
    def __init__(self, monitor="val_loss", mode="auto", patience=0):
        self.patience = patience
        self.history = []

    def on_epoch_end(self, epoch, logs):
        self.history.append(logs["val_loss"])
        logs["val_loss"] = min(self.history)  # changes the caller's dict


def test_methods_of_a_students_class_run_under_the_harness():
    answer = Answer(EARLY_STOPPING, StudentStopper)
    stopper = answer(patience=2)
    assert isinstance(stopper, StudentStopper) and stopper.patience == 2
    answer.method("stopper.on_epoch_end(0, logs)", stopper, "on_epoch_end", 0, {"val_loss": 1.0})
    assert stopper.history == [1.0]
    message = failure_of(lambda: answer.method("stopper.on_epoch_end(1, logs)", stopper, "on_epoch_end",
                                               1, {"val_loss": 2.0}))
    assert message == ("stopper.on_epoch_end(1, logs) changed logs['val_loss'] (it is now 1.0, it was 2.0): leave "
                       "logs as it is — the caller still needs it — and build new objects for what you return.")
    assert failure_of(lambda: answer.method("stopper.on_epoch_end(2)", stopper, "on_epoch_end", 2)).endswith(
        "Hint: the signature is EarlyStopping.on_epoch_end(epoch, logs).")


def test_a_method_that_runs_the_reference_class_fails():
    class Delegating(StudentStopper):
        def on_epoch_end(self, epoch, logs):
            return EarlyStopping().on_epoch_end(epoch, dict(logs))

    answer = Answer(EARLY_STOPPING, Delegating)
    with pytest.raises(DelegationFailure, match=r"called course_lib.training.EarlyStopping, the course's own"):
        answer.method("stopper.on_epoch_end(0, logs)", answer(), "on_epoch_end", 0, {"val_loss": 1.0})


# ------------------------------------------------------------------------- tamper-proofing

def test_decisions_hold_when_numpy_and_builtins_are_patched():
    with tampered():
        with pytest.raises(CheckFailure, match="changed its argument grad_output in place"):
            Answer(RELU_BACKWARD, in_place_relu_backward)(X.copy(), X - 0.5)
        with pytest.raises(CheckFailure, match="keeps its argument grad itself"):
            run_sgd(aliasing_sgd)
