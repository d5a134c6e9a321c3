"""Each delegating answer of 05 fails its exercise's visible check as a delegation."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import checking, scratch
from course_lib.checking.failure import DelegationFailure
from course_lib.training import EarlyStopping
from tests.grading.delegating_answers_05 import DELEGATING_05

# the names the notebook's setup cell imports that the answers use
NAMESPACE = {"np": np, "torch": torch, "F": F, "scratch": scratch, "EarlyStopping": EarlyStopping}
# the visible test of each exercise: the test cell's first line
VISIBLE_CHECKS = {
    "l2_penalty": checking.check_l2_penalty, "l1_penalty_gradients": checking.check_l1_penalty_gradients,
    "dropout": checking.check_dropout, "batch_norm_forward": checking.check_batch_norm_forward,
    "update_running_stats": checking.check_update_running_stats,
    "batch_norm_backward": checking.check_batch_norm_backward, "clip_grad_norm_": checking.check_clip_grad_norm,
    "shift_images": checking.check_shift_images, "mixup_batch": checking.check_mixup_batch,
    "EarlyStopper": checking.check_early_stopper,
}
# what each answer hands its work to
CALLED = {
    "l2_penalty": "course_lib.scratch.l2_penalty", "l1_penalty_gradients": "course_lib.scratch.l1_penalty_gradients",
    "dropout": "torch.nn.functional.dropout", "batch_norm_forward": "torch.nn.functional.batch_norm",
    "update_running_stats": "course_lib.scratch.batch_norm", "batch_norm_backward": "torch.Tensor.backward",
    "clip_grad_norm_": "course_lib.scratch.clip_grad_norm_", "shift_images": "course_lib.data.augmentation.shift",
    "mixup_batch": "course_lib.data.augmentation.mixup", "EarlyStopper": "course_lib.training.EarlyStopping",
}
ANSWERS = DELEGATING_05["05_regularization"]


def test_every_exercise_has_a_delegating_answer():
    assert set(ANSWERS) == set(VISIBLE_CHECKS) == set(CALLED)


@pytest.mark.parametrize("grade_id", sorted(ANSWERS))
def test_a_delegating_answer_fails_its_visible_check_as_a_delegation(grade_id, capsys):
    namespace = dict(NAMESPACE)
    exec(ANSWERS[grade_id], namespace)
    with pytest.raises(DelegationFailure) as caught:
        VISIBLE_CHECKS[grade_id](namespace[grade_id])
    assert f"called {CALLED[grade_id]}," in str(caught.value)
    assert "the exercise asks for your own code" in str(caught.value)
    assert capsys.readouterr() == ("", "")
