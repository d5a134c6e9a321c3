from types import SimpleNamespace

import pytest
import torch

from course_lib.checking.graph import agrees, input_gradient, leaves, report_gradient
from tests.checking.failures import failure_message

TOLERANCES = {torch.float64: (1e-9, 1e-12)}


def test_the_leaves_are_the_tensors_requiring_grad_an_output_came_from():
    a, b, constant = torch.ones(2, requires_grad=True), torch.ones(3, requires_grad=True), torch.ones(2)
    output = (a * constant).sum() + (b ** 2).sum() + a.sum()
    found = leaves(output)
    assert len(found) == 2 and any(leaf is a for leaf in found) and any(leaf is b for leaf in found)


def test_the_gradient_is_taken_with_respect_to_the_copy_the_answer_got():
    given = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64).requires_grad_()  # as the harness's copy
    other = torch.ones(2, dtype=torch.float64, requires_grad=True)
    output = torch.stack([given[0] * given[1], given[2] ** 2]) + other
    weights = torch.tensor([1.0, 10.0], dtype=torch.float64)

    gradient = input_gradient("f(x)", output, "x", (3,), grad_output=weights)

    torch.testing.assert_close(gradient, torch.tensor([2.0, 1.0, 60.0], dtype=torch.float64))
    assert given.grad is None  # autograd.grad, not backward: nothing is accumulated


def test_an_output_outside_the_graph_is_told_in_the_words_given():
    message = failure_message(input_gradient, "f(x) with 3 values", torch.ones(3).sum(), "x", (3,), what="a loss",
                              hint="the recipe")
    assert message.startswith("f(x) with 3 values returned a loss autograd cannot differentiate (requires_grad=False)")
    assert "from x.detach(), .item()" in message and message.endswith("\nHint: the recipe")


def test_an_output_that_does_not_lead_back_to_the_input_is_told():
    unrelated = torch.ones(4, requires_grad=True)
    message = failure_message(input_gradient, "f(x)", unrelated.sum(), "x", (3,), what="pooled vectors")
    assert message == ("f(x) returned pooled vectors whose graph does not lead back to x: compute it from x itself, "
                       "with torch operations.")


def test_agreement_is_within_the_tolerance_with_nan_equal_to_nan():
    nan = float("nan")
    assert agrees(torch.tensor([1.0, nan]), torch.tensor([1.0 + 1e-10, nan], dtype=torch.float64), (1e-9, 0))
    assert not agrees(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.1]), (1e-3, 0))


def run(context, gradient, expected):
    return SimpleNamespace(context=context, dtype=torch.float64, gradient=torch.tensor(gradient, dtype=torch.float64),
                           expected_gradient=torch.tensor(expected, dtype=torch.float64))


def report(runs, variants=()):
    report_gradient(runs, TOLERANCES, name="x.grad", lead="the value is right, but after y.backward()",
                    expected="Expected: 2x.", hint="the recipe", variants=variants)


def test_right_gradients_pass():
    report([run("f(1)", [2.0], [2.0]), run("f(2)", [4.0], [4.0])])


def test_the_first_wrong_gradient_is_named_by_a_variant_that_gives_every_one():
    runs = [run("f(1)", [2.0], [2.0]), run("f(2)", [8.0], [4.0]), run("f(3)", [18.0], [6.0])]
    halved = (lambda each: each.expected_gradient / 2, "halved")
    squared = (lambda each: each.expected_gradient ** 2 / 2, "the gradient is x², not 2x")
    assert failure_message(report, runs, variants=[halved, squared]) == ("f(2): the gradient is x², not 2x\n"
                                                                          "Hint: the recipe")


def test_without_a_variant_the_message_says_what_differs():
    assert failure_message(report, [run("f(1)", [2.0], [2.0]), run("f(2)", [5.0], [4.0])]) == (
        "f(2): the value is right, but after y.backward() x.grad differs from the expected values in 1 of 1 entries; "
        "the largest difference is at x.grad[0]: 5 instead of 4. Expected: 2x.\nHint: the recipe")


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_gradient_is_wrong(bad):
    assert "x.grad" in failure_message(report, [run("f(1)", [bad], [2.0])])
