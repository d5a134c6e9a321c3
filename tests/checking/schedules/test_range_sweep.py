"""The sweep the range test's check holds answers to, and its slips."""
import numpy as np
import pytest

from course_lib.checking.schedules.range_sweep import MISTAKES, Sweep
from course_lib.checking.schedules.range_test import DEFAULTS, SCENARIOS, variant_run
from course_lib.optim import lr_finder


def test_the_checks_sweep_is_course_libs():
    """The definition the check holds answers to, and course_lib's lr_range_test, written
    independently, run alike in every scenario."""
    for scenario in SCENARIOS:
        calls, *expected = variant_run(Sweep, scenario)
        rates = []

        def train_step(lr):
            rates.append(lr)
            return scenario.loss(lr, len(rates) - 1)
        ours = lr_finder.lr_range_test(train_step, **scenario.kwargs)
        np.testing.assert_allclose(rates, calls, rtol=1e-12)
        for values, reference in zip(ours, expected):
            np.testing.assert_allclose(values, reference, rtol=1e-12)
    assert DEFAULTS == dict(start_lr=1e-5, end_lr=10.0, num_iter=1200, beta=0.95, diverge_th=5.0)


def same_run(one, other):
    """Two (calls, lrs, losses, smoothed) of variant_run alike, nan equal to nan."""
    return all(len(a) == len(b) and np.allclose(a, b, rtol=1e-12, equal_nan=True) for a, b in zip(one, other))


@pytest.mark.parametrize("sweep_class", MISTAKES, ids=[mistake.__name__ for mistake in MISTAKES])
def test_every_slip_changes_one_decision_and_shows_in_a_scenario(sweep_class):
    changed = [name for name, value in vars(sweep_class).items() if callable(value)]
    assert len(changed) == 1 and hasattr(Sweep, changed[0]), changed
    assert sweep_class.explanation
    assert not all(same_run(variant_run(sweep_class, scenario), variant_run(Sweep, scenario))
                   for scenario in SCENARIOS)
