import itertools

import pytest
import torch

from course_lib.checking.failure import CheckFailure, DelegationFailure
from course_lib.checking.transfer import (
    _factor_on_the_head, _freezes_only_convolution_and_linear_weights, _freezes_only_convolutions_and_linear_layers,
    _freezes_only_the_weights, _omits_the_base_but_leaves_it_trainable, _one_rate_for_both, GENERATOR,
    check_transfer_parameter_groups,
)
from course_lib.training.transfer import transfer_parameter_groups as reference
from tests.checking.failures import assert_fails_with, named
from tests.strategies import tampered

NAME = "transfer_parameter_groups"


def transfer_parameter_groups(model, mode, lr, base_lr_factor=0.1):
    """A right answer, written as a student would."""
    base, head = model[:-1], model[-1]
    for parameter in base.parameters():
        parameter.requires_grad = mode != "frozen"
    for parameter in head.parameters():
        parameter.requires_grad = True
    if mode == "frozen":
        return [{"params": list(head.parameters()), "lr": lr}]
    if mode == "fine_tune":
        return [{"params": list(base.parameters()), "lr": lr * base_lr_factor},
                {"params": list(head.parameters()), "lr": lr}]
    return [{"params": list(model.parameters()), "lr": lr}]


def with_requires_grad_(model, mode, lr, base_lr_factor=0.1):
    """Right too: requires_grad_ on whole modules, tuples of parameters, lr / 10 for the default factor."""
    model.requires_grad_(True)
    model[:-1].requires_grad_(mode != "frozen")
    head = tuple(model[-1].parameters())
    if mode == "frozen":
        return [dict(params=head, lr=lr)]
    if mode == "fine_tune":
        return [dict(params=tuple(model[:-1].parameters()), lr=lr * base_lr_factor), dict(params=head, lr=lr)]
    return [dict(params=tuple(model.parameters()), lr=lr)]


@pytest.mark.parametrize("seed", [0, 1, 2, 7])
def test_right_answers_pass(seed):
    check_transfer_parameter_groups(transfer_parameter_groups, seed=seed)
    check_transfer_parameter_groups(named(NAME, with_requires_grad_), seed=seed)


def answer(frozen=None, fine_tune=None, scratch=None):
    """The right answer, with the decision for some modes replaced by `decide(base, head, lr, factor, modules)`."""
    replaced = {"frozen": frozen, "fine_tune": fine_tune, "scratch": scratch}

    def student(model, mode, lr, base_lr_factor=0.1):
        if replaced[mode] is None:
            return transfer_parameter_groups(model, mode, lr, base_lr_factor)
        model.requires_grad_(True)
        base, head = list(model[:-1].parameters()), list(model[-1].parameters())
        return replaced[mode](base, head, lr, base_lr_factor, list(model[:-1].modules()))
    return named(NAME, student)


def freezes_the_head(base, head, lr, factor, modules):
    """The names swapped: `base, head = model[-1], model[:-1]`."""
    for parameter in head:
        parameter.requires_grad = False
    return [{"params": base, "lr": lr}]


def freezes_every_layers_weight(base, head, lr, factor, modules):
    for module in modules:
        if hasattr(module, "weight"):
            module.weight.requires_grad = False
    return [{"params": head, "lr": lr}]


def never_unfreezes(model, mode, lr, base_lr_factor=0.1):
    base, head = list(model[:-1].parameters()), list(model[-1].parameters())
    if mode == "frozen":
        for parameter in base:
            parameter.requires_grad = False
        return [{"params": head, "lr": lr}]
    if mode == "fine_tune":
        return [{"params": base, "lr": lr * base_lr_factor}, {"params": head, "lr": lr}]
    return [{"params": base + head, "lr": lr}]


WRONG = [  # (answer, parts of the message)
    (answer(frozen=freezes_the_head), [
        "With a CNN whose base is Conv2d → BatchNorm2d → ReLU → MaxPool2d → Flatten → Linear → ReLU and whose head "
        "is the last Linear: after transfer_parameter_groups(model, 'frozen', ", "these parameters still have "
        "requires_grad=True but should be frozen: the base's 0.weight (Conv2d), 0.bias (Conv2d), 1.weight "
        "(BatchNorm2d), 1.bias (BatchNorm2d), 5.weight (Linear) and 5.bias (Linear); these parameters have "
        "requires_grad=False but should train: the head's 7.weight (Linear) and 7.bias (Linear). The head is frozen "
        "and the base trains"]),
    (answer(frozen=lambda base, head, lr, factor, modules: [{"params": head, "lr": lr}]),
     ["should be frozen: the base's 0.weight", _omits_the_base_but_leaves_it_trainable.explanation[1:]]),
    (answer(frozen=freezes_every_layers_weight),
     ["still have requires_grad=True but should be frozen: the base's 0.bias (Conv2d), 1.bias (BatchNorm2d) "
      "and 5.bias (Linear). Only the base's weights", _freezes_only_the_weights.explanation[1:]]),
    (answer(frozen=_freezes_only_convolutions_and_linear_layers),
     ["frozen: the base's 1.weight (BatchNorm2d) and 1.bias (BatchNorm2d).",
      _freezes_only_convolutions_and_linear_layers.explanation[1:]]),
    (answer(frozen=_freezes_only_convolution_and_linear_weights),
     [_freezes_only_convolution_and_linear_weights.explanation[1:]]),
    (answer(fine_tune=_one_rate_for_both), [
        "With a CNN whose base", "transfer_parameter_groups(model, 'fine_tune', ", "returned 2 groups (group 0: 6 "
        "of the base's parameters at lr=", "). Both groups have", _one_rate_for_both.explanation[1:]]),
    (answer(fine_tune=_factor_on_the_head), [_factor_on_the_head.explanation[1:]]),
    (named(NAME, never_unfreezes), [
        "its base frozen before the call: after transfer_parameter_groups(model, 'fine_tune', ",
        "requires_grad=False but should train: the base's 0.weight", 'and "fine_tune" left it so']),
]


@pytest.mark.parametrize("answer, parts", WRONG, ids=range(len(WRONG)))
def test_slips_are_named_by_the_decision_that_reproduces_them(answer, parts):
    assert_fails_with(check_transfer_parameter_groups, answer, parts)


def test_an_unexplained_decision_is_described_with_the_recipe():
    def frozen_base_in_the_group(base, head, lr, factor, modules):
        for parameter in base:
            parameter.requires_grad = False
        return [{"params": base + head, "lr": lr}]
    message = assert_fails_with(check_transfer_parameter_groups, answer(frozen=frozen_base_in_the_group), [
        "returned 1 group (group 0: 6 of the base's and 2 of the head's parameters at lr=",
        "expected 1 (group 0: 2 of the head's parameters at lr=", "Hint: base = list(model[:-1].parameters())"])
    assert "Likely" not in message

    def scratch_in_two_groups(base, head, lr, factor, modules):
        return [{"params": base, "lr": lr}, {"params": head, "lr": lr}]
    assert_fails_with(check_transfer_parameter_groups, answer(scratch=scratch_in_two_groups), [
        "'scratch', ", "returned 2 groups", "expected 1 (group 0: 6 of the base's and 2 of the head's parameters"])

    def head_first(base, head, lr, factor, modules):
        return [{"params": head, "lr": lr}, {"params": base, "lr": lr * factor}]
    assert_fails_with(check_transfer_parameter_groups, answer(fine_tune=head_first), [
        "(group 0: 2 of the head's parameters at lr="])


FORM = [  # (decision for "frozen", parts of the message)
    (lambda base, head, lr, factor, modules: [{"params": iter(head), "lr": lr}],
     ["group 0 of the list transfer_parameter_groups(model, 'frozen', ", 'its "params" '
      + GENERATOR.format(kind="a list_iterator")]),
    (lambda base, head, lr, factor, modules: [{"params": itertools.chain(head), "lr": lr}], ["is a chain (what"]),
    (lambda base, head, lr, factor, modules: head, ["returned a list of tensors, not of parameter groups"]),
    (lambda base, head, lr, factor, modules: {"params": head, "lr": lr}, ["returned a dict, but a list of parameter "
                                                                           "groups"]),
    (lambda base, head, lr, factor, modules: [{"params": head}], ["has the keys ['params']", '"lr"']),
    (lambda base, head, lr, factor, modules: [{"params": head, "lr": lr, "momentum": 0.0}],
     ["has the keys ['lr', 'momentum', 'params']; return only"]),
    (lambda base, head, lr, factor, modules: [{"params": head[0], "lr": lr}], ["is a single tensor"]),
    (lambda base, head, lr, factor, modules: [{"params": set(head), "lr": lr}], ['"params" is a set']),
    (lambda base, head, lr, factor, modules: [{"params": head, "lr": torch.tensor(lr)}], ['"lr" is a torch.Tensor']),
    (lambda base, head, lr, factor, modules: [{"params": [p.detach() for p in head], "lr": lr}],
     ["not one of model's parameters"]),
    (lambda base, head, lr, factor, modules: [{"params": head + head[:1], "lr": lr}],
     ["holds 7.weight (Linear), which is twice in that group"]),
    (lambda base, head, lr, factor, modules: [{"params": head, "lr": lr}, {"params": head[:1], "lr": lr}],
     ["group 1 of the list", "holds 7.weight (Linear), which is also in group 0"]),
]


@pytest.mark.parametrize("decide, parts", FORM, ids=range(len(FORM)))
def test_the_form_of_the_groups_is_checked_first(decide, parts):
    def frozen(base, head, lr, factor, modules):
        for parameter in base:
            parameter.requires_grad = False
        return decide(base, head, lr, factor, modules)
    assert_fails_with(check_transfer_parameter_groups, answer(frozen=frozen), parts)


def test_a_generator_named_as_such():
    def returns_generators(model, mode, lr, base_lr_factor=0.1):
        transfer_parameter_groups(model, mode, lr, base_lr_factor)
        return [{"params": model[-1].parameters(), "lr": lr}]
    assert_fails_with(check_transfer_parameter_groups, named(NAME, returns_generators), [
        'its "params" is a generator (what .parameters() returns', "list(model[-1].parameters())"])


def test_changing_the_values_fails():
    def reinitialises(model, mode, lr, base_lr_factor=0.1):
        if mode == "scratch":
            for module in model.modules():
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
        return transfer_parameter_groups(model, mode, lr, base_lr_factor)
    assert_fails_with(check_transfer_parameter_groups, named(NAME, reinitialises), [
        "'scratch', ", "changed the values of 0.weight (Conv2d)", "built fresh by the caller"])


def test_seeds_draw_other_rates_and_widths():
    calls = []

    def recording(model, mode, lr, base_lr_factor=0.1):
        calls.append((mode, lr, base_lr_factor, sum(p.numel() for p in model.parameters())))
        return transfer_parameter_groups(model, mode, lr, base_lr_factor)
    check_transfer_parameter_groups(named(NAME, recording), seed=0)
    first, calls[:] = list(calls), []
    check_transfer_parameter_groups(named(NAME, recording), seed=1)
    assert [call[0] for call in first] == [call[0] for call in calls] == [
        "frozen", "fine_tune", "scratch", "fine_tune", "frozen", "fine_tune", "scratch"]
    assert first != calls
    assert first[1][2] == 0.1  # the default factor, not passed


def test_a_crash_gets_the_advice_on_the_split():
    def uses_a_name(model, mode, lr, base_lr_factor=0.1):
        return [{"params": list(model.head.parameters()), "lr": lr}]
    assert_fails_with(check_transfer_parameter_groups, named(NAME, uses_a_name), [
        "raised AttributeError", "Hint: model is an nn.Sequential whose last module is the head: model[:-1]"])


def test_an_answer_that_delegates_fails():
    with pytest.raises(DelegationFailure, match="called course_lib.training.transfer_parameter_groups"):
        check_transfer_parameter_groups(reference)


def test_a_blank_answer_gets_the_advice():
    def blank(model, mode, lr, base_lr_factor=0.1):
        raise NotImplementedError()
    assert_fails_with(check_transfer_parameter_groups, named(NAME, blank), ["raised NotImplementedError: replace"])


def test_the_check_cannot_be_fooled_by_patched_numpy_or_torch():
    with tampered(builtin_names=()):  # lying builtins break torch's optimizers themselves
        check_transfer_parameter_groups(transfer_parameter_groups)
        with pytest.raises(CheckFailure) as caught:
            check_transfer_parameter_groups(answer(fine_tune=_one_rate_for_both))
    assert _one_rate_for_both.explanation[1:] in str(caught.value)
