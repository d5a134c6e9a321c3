from collections import namedtuple

import numpy as np
import pytest
import torch

from course_lib.checking.arguments import arrays_in, change, check_no_alias, copied, one_level
from course_lib.checking.failure import CheckFailure

Cache = namedtuple("Cache", "input pre_activation")


# ------------------------------------------------------------------------------ copies

def test_arrays_and_tensors_are_copied_also_inside_containers():
    array, tensor = np.arange(3.0), torch.ones(2, requires_grad=True)
    original = {"W": array, "layers": [Cache(array, tensor)], "lr": 0.1}
    copy = copied(original, {})
    assert copy is not original and copy["layers"] is not original["layers"]
    assert isinstance(copy["layers"][0], Cache)
    assert copy["W"] is not array and (copy["W"] == array).all()
    assert copy["layers"][0].pre_activation is not tensor and copy["layers"][0].pre_activation.requires_grad
    assert copy["lr"] == 0.1


def test_an_object_that_appears_twice_is_copied_once_and_what_holds_no_array_stays():
    array = np.arange(3.0)
    first, second = copied([array, array], {})
    assert first is second and first is not array
    shape, rng = torch.Size([2, 3]), np.random.default_rng(0)
    assert copied(shape, {}) is shape and copied(rng, {}) is rng and copied((1, "a"), {}) == (1, "a")


# ------------------------------------------------------------------------------ changes

def test_an_unchanged_copy_is_no_change_with_nan_equal_to_nan():
    original = {"x": np.array([np.nan, 1.0]), "t": torch.tensor([float("nan"), 2.0]), "n": float("nan"), "k": 3}
    assert change("params", original, copied(original, {})) is None


def test_an_array_or_tensor_written_into_is_named_with_its_path():
    original = {"W1": np.ones(3)}
    given = copied(original, {})
    given["W1"][0] = 0
    assert change("params", original, given).startswith(
        "changed its argument params['W1'] in place: `params['W1'] -= ...`")
    tensor = torch.ones(2)
    assert "writes into the caller's tensor" in change("inputs", tensor, tensor * 2)
    assert change("inputs", tensor, tensor.clone()) is None


def test_dicts_and_lists_changed_in_place_are_named():
    assert change("logs", {"loss": 1.0}, {"loss": 1.0, "lr": 0.1}).startswith(
        "changed the dict logs (its keys are now 'loss', 'lr', they were 'loss')")
    assert change("cache", [1, 2], [1]).startswith("changed the list cache (it now holds 1 items, it held 2)")
    assert change("logs", {"loss": 1.0}, {"loss": 0.5}) == (
        "changed logs['loss'] (it is now 0.5, it was 1.0): leave logs as it is — the caller still needs it — "
        "and build new objects for what you return.")
    model = torch.nn.Linear(1, 1)
    assert change("state", {"model": model}, {"model": model}) is None


# ---------------------------------------------------------------------------- aliasing

def test_arrays_are_found_at_any_depth_and_one_level_deep():
    grad, tensor = np.ones(2), torch.ones(1)
    assert [path for path, _ in arrays_in("cache", [(grad, {"t": tensor})])] == ["cache[0][0]", "cache[0][1]['t']"]
    assert [path for path, _ in one_level("state", {"buffer": grad, "step": 1, "nested": [grad]},
                                          containers_only=True)] == ["state['buffer']"]
    assert one_level("state", grad, containers_only=True) == []
    assert [path for path, _ in one_level("the result", grad, containers_only=False)] == ["the result"]


@pytest.mark.parametrize("kept", [
    lambda grad: grad, lambda grad: grad[1:], lambda grad: grad.reshape(2, 2), lambda grad: torch.from_numpy(grad),
])
def test_a_kept_reference_or_view_of_an_input_fails(kept):
    grad = np.arange(4.0)
    with pytest.raises(CheckFailure) as caught:
        check_no_alias("update(param, grad, state)", [("state['buffer']", kept(grad))], [("grad", grad)])
    assert str(caught.value).startswith("update(param, grad, state) keeps its argument grad itself (or a view of it) "
                                        "in state['buffer']: the two share memory")


def test_a_copy_is_no_alias_and_a_returned_input_is_named_as_such():
    grad = np.arange(4.0)
    check_no_alias("f(grad)", [("state['buffer']", grad.copy()), ("state['t']", torch.ones(2))], [("grad", grad)])
    tensor = torch.ones(3)
    with pytest.raises(CheckFailure, match=r"f\(x\) returned its argument x itself \(or a view of it\) as the "
                                           r"result: .* Return a new array, e.g. x.clone\(\)."):
        check_no_alias("f(x)", [("the result", tensor[:2])], [("x", tensor)])
