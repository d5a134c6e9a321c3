import pytest
import torch
import torch.nn.functional as F

from course_lib.checking.failure import DelegationFailure
from course_lib.checking.label_smoothing import MISTAKES, SCENARIOS, check_smoothed_cross_entropy
from tests.calls import counted
from tests.checking.failures import failure_message, named
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

NAME = "smoothed_cross_entropy"


# ------------------------------------------------ right answers, as students write them

def by_the_smoothed_distribution(input, target, label_smoothing=0.0):
    num_classes = input.shape[1]
    q = (1 - label_smoothing) * F.one_hot(target, num_classes).to(input.dtype) + label_smoothing / num_classes
    return -(q * F.log_softmax(input, dim=1)).sum(dim=1).mean()


def by_two_terms(input, target, label_smoothing=0.0):
    log_p = input.log_softmax(dim=1)
    nll = -log_p.gather(1, target[:, None]).squeeze(1)
    return ((1 - label_smoothing) * nll - label_smoothing * log_p.mean(dim=1)).mean()


def by_nll_loss(input, target, label_smoothing=0.0):
    log_p = F.log_softmax(input, dim=1)
    return (1 - label_smoothing) * F.nll_loss(log_p, target) - label_smoothing * log_p.mean()


def by_logsumexp(input, target, label_smoothing=0.0):
    log_p = input - input.logsumexp(dim=1, keepdim=True)
    smoothed = torch.full_like(input, label_smoothing / input.shape[1])
    smoothed[torch.arange(len(target)), target] += 1 - label_smoothing
    return -(smoothed * log_p).sum() / len(target)


def with_a_float32_target(input, target, label_smoothing=0.0):
    num_classes = input.shape[1]
    q = (1 - label_smoothing) * F.one_hot(target, num_classes) + label_smoothing / num_classes  # float32
    return -(q * F.log_softmax(input, dim=1)).sum(dim=1).mean()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("answer", [by_the_smoothed_distribution, by_two_terms, by_nll_loss, by_logsumexp,
                                    with_a_float32_target])
def test_right_answers_pass(answer, seed, capsys):
    check_smoothed_cross_entropy(named(NAME, answer), seed=seed)
    assert capsys.readouterr() == ("", "")


def test_the_answer_is_called_once_per_scenario():
    answer = counted(named(NAME, by_two_terms))
    check_smoothed_cross_entropy(answer)
    assert answer.calls == len(SCENARIOS)


def test_hidden_variants_draw_other_logits_and_targets():
    seen = {}

    def recording(input, target, label_smoothing=0.0):
        seen.setdefault(seed, []).append((input.detach().clone(), target.clone()))
        return by_two_terms(input, target, label_smoothing)

    for seed in (0, 1):
        check_smoothed_cross_entropy(named(NAME, recording), seed=seed)
    (input_0, target_0), (input_1, target_1) = seen[0][0], seen[1][0]
    assert input_0.shape == input_1.shape and not torch.equal(input_0, input_1)
    assert not torch.equal(target_0, target_1)


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_smoothed_cross_entropy(named(NAME, by_two_terms)))


@pytest.mark.parametrize("function, called", [
    (lambda input, target, label_smoothing=0.0: F.cross_entropy(input, target, label_smoothing=label_smoothing),
     "torch.nn.functional.cross_entropy"),
    (lambda input, target, label_smoothing=0.0: torch.nn.CrossEntropyLoss(label_smoothing=label_smoothing)(
        input, target), "torch.nn.CrossEntropyLoss"),
    # the smoothed target built by hand, the cross-entropy left to torch
    (lambda input, target, label_smoothing=0.0: F.cross_entropy(input, (1 - label_smoothing) * F.one_hot(
        target, input.shape[1]).to(input.dtype) + label_smoothing / input.shape[1]),
     "torch.nn.functional.cross_entropy"),
])
def test_torchs_cross_entropy_is_not_an_answer(function, called):
    with pytest.raises(DelegationFailure, match=f"called {called}, which does what this exercise asks"):
        check_smoothed_cross_entropy(named(NAME, function))


def test_a_blank_answer_gets_the_shared_advice():
    def blank(input, target, label_smoothing=0.0):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(check_smoothed_cross_entropy, named(NAME, blank))


# ------------------------------------------------------------------------------- mistakes

def with_target(spread):
    """An answer that builds q = spread(one_hot, epsilon, C) and is right otherwise."""
    def smoothed_cross_entropy(input, target, label_smoothing=0.0):
        hot = F.one_hot(target, input.shape[1]).to(input.dtype)
        q = spread(hot, label_smoothing, input.shape[1])
        return -(q * F.log_softmax(input, dim=1)).sum(dim=1).mean()
    return smoothed_cross_entropy


def with_log_probabilities(log_probabilities):
    def smoothed_cross_entropy(input, target, label_smoothing=0.0):
        num_classes = input.shape[1]
        q = (1 - label_smoothing) * F.one_hot(target, num_classes).to(input.dtype) + label_smoothing / num_classes
        return -(q * log_probabilities(input)).sum(dim=1).mean()
    return smoothed_cross_entropy


FIRST = "smoothed_cross_entropy(input, target, label_smoothing=0.1) with 4 classes (input (6, 4))"
MISTAKE_CASES = [
    (with_target(lambda hot, eps, c: (1 - eps) * hot + eps / (c - 1) * (1 - hot)), FIRST,
     "spread over the other C - 1 classes only"),
    (with_target(lambda hot, eps, c: hot + eps / c), FIRST, "without taking label_smoothing off the target class"),
    (with_target(lambda hot, eps, c: (1 - eps) * hot + eps / c * (1 - hot)), FIRST,
     "the target class gets 1 - label_smoothing but not its own share"),
    (with_target(lambda hot, eps, c: (1 - eps) * hot + eps), FIRST,
     "every class gets label_smoothing instead of label_smoothing / C"),
    (with_target(lambda hot, eps, c: hot), FIRST, "label_smoothing is ignored"),
    (lambda input, target, label_smoothing=0.0: len(target) * by_two_terms(input, target, label_smoothing), FIRST,
     "that is the sum over the samples"),
    (lambda input, target, label_smoothing=0.0: -(
        ((1 - label_smoothing) * F.one_hot(target, input.shape[1]).to(input.dtype) + label_smoothing / input.shape[1])
        * input.log_softmax(1)).mean(), FIRST, "averaged over all N * C entries"),
    (with_log_probabilities(lambda input: input.softmax(dim=1)), FIRST, "softmax is used where its log belongs"),
    (with_log_probabilities(lambda input: input.softmax(dim=1).log()),
     "smoothed_cross_entropy(input, target, label_smoothing=0.1) with extreme logits",
     "returned a loss of inf, expected 2"),
    (with_log_probabilities(lambda input: input.softmax(dim=1).log()),
     "smoothed_cross_entropy(input, target, label_smoothing=0.1) with extreme logits",
     "log(softmax(input)) underflows"),
]


@pytest.mark.parametrize("function, where, phrase", MISTAKE_CASES)
def test_mistakes_are_named_at_the_first_scenario_they_get_wrong(function, where, phrase):
    message = failure_message(check_smoothed_cross_entropy, named(NAME, function))
    assert message.startswith(where)
    assert phrase in message
    assert "Hint: log_p = F.log_softmax(input, dim=1); q = (1 - label_smoothing)" in message


@pytest.mark.parametrize("seed", SEEDS)
def test_mistakes_are_named_for_hidden_variants_too(seed):
    for function, _, phrase in MISTAKE_CASES:
        assert phrase in failure_message(check_smoothed_cross_entropy, named(NAME, function), seed=seed)


def test_a_smoothing_term_outside_the_graph_is_told_by_the_gradient():
    def detached(input, target, label_smoothing=0.0):
        log_p = input.log_softmax(dim=1)
        nll = -log_p.gather(1, target[:, None]).squeeze(1)
        return ((1 - label_smoothing) * nll - label_smoothing * log_p.mean(dim=1).detach()).mean()

    message = failure_message(check_smoothed_cross_entropy, named(NAME, detached))
    assert message.startswith(f"{FIRST}: the loss is right but its gradient is only that of (1 - label_smoothing) "
                              f"times the plain cross-entropy")


def test_a_gradient_that_differs_otherwise_is_described():
    def pushed(input, target, label_smoothing=0.0):  # the same value, a gradient one larger everywhere
        return by_two_terms(input, target, label_smoothing) + (input - input.detach()).sum()

    message = failure_message(check_smoothed_cross_entropy, named(NAME, pushed))
    assert message.startswith(f"{FIRST}: the loss is right, but after loss.backward() input.grad "
                              f"differs from the expected values in 24 of 24 entries")
    assert "only that of (1 - label_smoothing)" not in message


def test_an_unknown_mistake_says_what_differs_without_a_cause():
    def a_little_large(input, target, label_smoothing=0.0):
        return 1.001 * by_two_terms(input, target, label_smoothing)

    message = failure_message(check_smoothed_cross_entropy, named(NAME, a_little_large))
    assert message.startswith(f"{FIRST}: the loss is 1.")
    assert ", expected 1." in message
    for wrong in MISTAKES:
        assert wrong.explanation not in message


@pytest.mark.parametrize("function, phrase", [
    (lambda input, target, label_smoothing=0.0: by_two_terms(input, target, label_smoothing).item(),
     "returned a float, but a 0-d torch.Tensor is expected: loss.item() and float() take the number out"),
    (lambda input, target, label_smoothing=0.0: None, "did the function end without a `return` statement?"),
    (lambda input, target, label_smoothing=0.0: by_two_terms(input, target, label_smoothing) * torch.ones(
        len(target), dtype=input.dtype), "returned a loss of shape (6,), but a 0-d tensor is expected: one per sample"),
    (lambda input, target, label_smoothing=0.0: by_two_terms(input.detach(), target, label_smoothing),
     "returned a loss autograd cannot differentiate (requires_grad=False)"),
])
def test_a_loss_that_cannot_be_backpropagated_is_told(function, phrase):
    assert phrase in failure_message(check_smoothed_cross_entropy, named(NAME, function))


def test_float32_must_stay_float32():
    def in_float64(input, target, label_smoothing=0.0):
        return by_two_terms(input.double(), target, label_smoothing)

    message = failure_message(check_smoothed_cross_entropy, named(NAME, in_float64))
    assert message.startswith("smoothed_cross_entropy(input, target, label_smoothing=0.1) with float32 in float32")
    assert "returned a loss of dtype torch.float64, but torch.float32 (input's) is expected" in message


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_abs(capsys):
    with tampered(builtin_names=("abs",)):
        check_smoothed_cross_entropy(named(NAME, by_two_terms))
        assert "label_smoothing is ignored" in failure_message(
            check_smoothed_cross_entropy, named(NAME, with_target(lambda hot, eps, c: hot)))
    assert capsys.readouterr() == ("", "")


def test_a_crash_is_told_and_one_on_shapes_gets_the_recipe():
    def targets_not_picked(input, target, label_smoothing=0.0):
        log_p = F.log_softmax(input, dim=1)
        return -((1 - label_smoothing) * target * log_p + label_smoothing * log_p.mean(dim=1)).mean()

    def float_one_hot(input, target, label_smoothing=0.0):
        return F.one_hot(target.float(), input.shape[1]).sum()

    message = failure_message(check_smoothed_cross_entropy, named(NAME, targets_not_picked))
    assert message.startswith(f"{FIRST} raised RuntimeError: The size of tensor a (6) must match")
    assert "\nHint: log_p = F.log_softmax(input, dim=1)" in message
    assert f"{FIRST} raised RuntimeError: one_hot is only applicable to index tensor" in failure_message(
        check_smoothed_cross_entropy, named(NAME, float_one_hot))
