"""Every rule's numpy form follows its torch optimizer, and every wrong variant of it, run as a
student's answer, is told by its own explanation (none hides behind another)."""
import numpy as np
import pytest
import torch

from course_lib.checking import optimizers
from course_lib.checking.optimizers import RULES
from course_lib.checking.optimizers.rule import variants
from tests.checking.failures import assert_fails_with

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.mark.parametrize("rule", RULES.values(), ids=RULES.keys())
def test_the_numpy_rule_follows_torch(rule):
    for scenario in rule.scenarios:
        hp = {**rule.defaults, **scenario.options}
        rng = np.random.default_rng(0)
        param = rng.standard_normal((3, 4))
        tensor = torch.tensor(param, requires_grad=True)
        optimizer = rule.oracle([tensor], **rule.to_torch(hp))
        state = {}
        for size in (1.0, 1e-3, 100.0, 0.0, 1e-8, 1.0):
            grad = size * rng.standard_normal((3, 4))
            rule.right(param, grad, state, hp)
            tensor.grad = torch.from_numpy(grad.copy())
            optimizer.step()
            np.testing.assert_allclose(param, tensor.detach().numpy(), rtol=1e-12, atol=1e-15)


CATALOGUE = [pytest.param(name, wrong, id=f"{name}-{index}-{wrong.__name__}")
             for name, rule in RULES.items() for index, wrong in enumerate(variants(rule))]


@pytest.mark.parametrize("name, wrong", CATALOGUE)
def test_every_known_mistake_is_told_by_its_own_explanation(name, wrong):
    rule = RULES[name]

    def answer(param, grad, state, **hp):
        wrong(param, grad, state, {**rule.defaults, **hp})

    answer.__name__ = name
    assert_fails_with(getattr(optimizers, f"check_{name}"), answer, [f"Hint: {wrong.explanation}"])


def test_every_mistake_has_an_explanation_and_a_name_that_says_it():
    for rule in RULES.values():
        for wrong in variants(rule):
            assert wrong.explanation and wrong.explanation.endswith(".")
            assert wrong.__name__ not in ("<lambda>", "wrong")
