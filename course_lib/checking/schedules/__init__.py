"""Checks for learning-rate schedules (assignment 04).

The student writes six schedules as closed forms — functions of the step count returning
the rate —, a ReduceLROnPlateau class and the LR range test's sweep. Each schedule's check
runs a list of scenarios, the signature's defaults first and then one option at a time, so
that the first scenario that fails isolates the mistake. The expected rates come from
torch's own schedulers, on a torch optimizer over one float64 parameter, read with
get_last_lr()[0] before each scheduler.step(): step t is the rate after t calls of step(),
step 0 the one right after construction. A hidden test can pass other hyperparameters as
keyword options; the check then runs that one scenario.

On a mismatch the message names the call, the value returned, torch's value and how many
steps matched, then the likely cause: one of the exercise's usual mistakes — small wrong
functions (or, for ReduceLROnPlateau, subclasses) next to their explanations — or torch's
rates shifted by a step, named only when it gives the student's values in the failing
scenario and in every built-in one.

Modules: `oracle` (torch's rates, computed with math and the builtins as they were at
import, warnings silenced: nbgrader counts any output on stderr as a failure),
`closed_form` (the scenario runner, the diagnosis and the messages), and one module per
exercise family with its mistakes and checks: `decay` (step_lr, exponential_lr), `cosine`
(cosine_annealing_lr), `warmup` (warmup_cosine_lr), `one_cycle`, `cyclic`, `plateau`, and
`range_test` (lr_range_test, the LR range test's sweep, which has no torch twin: its expected
values come from the sweep's definition, written out there).
The numbers are compared with `_trusted.isclose` and the builtins bound at import, so a
student's patched np.allclose, math or builtin can't make a wrong answer pass (see the
package docstring).
"""
from .cosine import check_cosine_annealing_lr
from .cyclic import check_cyclic_lr
from .decay import check_exponential_lr, check_step_lr
from .one_cycle import check_one_cycle_lr
from .plateau import check_reduce_lr_on_plateau
from .range_test import check_lr_range_test
from .warmup import check_warmup_cosine_lr

__all__ = [
    "check_cosine_annealing_lr", "check_cyclic_lr", "check_exponential_lr", "check_lr_range_test",
    "check_one_cycle_lr", "check_reduce_lr_on_plateau", "check_step_lr", "check_warmup_cosine_lr",
]
