import numpy as np
import pytest
import torch

from course_lib.optim import SGD, Adagrad, Adam, Adamax, AdamW, Optimizer, RMSprop

OPTIMIZERS = [SGD, RMSprop, Adagrad, Adam, AdamW, Adamax]


@pytest.mark.parametrize("optimizer_class", OPTIMIZERS)
def test_every_optimizer_is_an_optimizer_whose_lr_is_param_groups_lr(optimizer_class):
    optimizer = optimizer_class([np.zeros(2)], lr=0.5)
    assert isinstance(optimizer, Optimizer)
    assert optimizer.lr == optimizer.param_groups[0]["lr"] == 0.5
    optimizer.lr = 0.25
    assert optimizer.param_groups[0]["lr"] == 0.25
    optimizer.param_groups[0]["lr"] = 0.125
    assert optimizer.lr == 0.125


def test_state_dict_has_torchs_layout_with_only_the_updated_parameters_in_state():
    params = [np.zeros((2, 2)), np.zeros(3), np.zeros(())]
    tensors = [torch.zeros(param.shape, requires_grad=True) for param in params]
    ours, theirs = SGD(params, lr=0.1, momentum=0.9), torch.optim.SGD(tensors, lr=0.1, momentum=0.9)
    grads = [np.ones((2, 2)), None, np.ones(())]
    ours.step(grads)
    for tensor, grad in zip(tensors, grads):
        tensor.grad = None if grad is None else torch.ones(grad.shape)
    theirs.step()
    state_dict, expected = ours.state_dict(), theirs.state_dict()
    assert state_dict.keys() == expected.keys() == {"state", "param_groups"}
    assert state_dict["state"].keys() == expected["state"].keys() == {0, 2}
    np.testing.assert_array_equal(state_dict["state"][0]["momentum_buffer"], np.ones((2, 2)))
    [group] = state_dict["param_groups"]
    assert group == {"lr": 0.1, "momentum": 0.9, "dampening": 0, "weight_decay": 0, "nesterov": False,
                     "maximize": False, "params": [0, 1, 2]}
    assert list(group)[-1] == list(expected["param_groups"][0])[-1] == "params"


def test_state_dict_and_load_state_dict_copy_the_arrays():
    param = np.zeros(3)
    optimizer = Adam([param])
    optimizer.step([np.ones(3)])
    saved = optimizer.state_dict()
    assert saved["state"][0]["exp_avg"] is not optimizer.state[0]["exp_avg"]
    saved_exp_avg = saved["state"][0]["exp_avg"].copy()
    optimizer.step([np.ones(3)])
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], saved_exp_avg)
    loaded = Adam([np.zeros(3)])
    loaded.load_state_dict(saved)
    loaded.step([np.ones(3)])
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], saved_exp_avg)
    assert saved["state"][0]["step"] == 1


def test_load_state_dict_takes_the_saved_hyperparameters():
    saved = SGD([np.zeros(2)], lr=0.3, momentum=0.5, nesterov=True).state_dict()
    optimizer = SGD([np.zeros(2)], lr=0.1)
    optimizer.load_state_dict(saved)
    assert optimizer.lr == 0.3 and optimizer.param_groups[0]["nesterov"] is True


def test_load_state_dict_refuses_a_different_number_of_parameters_with_torchs_message():
    def tensors(count):
        return [torch.zeros(1, requires_grad=True) for _ in range(count)]
    with pytest.raises(ValueError) as torch_error:
        torch.optim.SGD(tensors(1), lr=0.1).load_state_dict(torch.optim.SGD(tensors(2), lr=0.1).state_dict())
    with pytest.raises(ValueError) as our_error:
        SGD([np.zeros(1)], lr=0.1).load_state_dict(SGD([np.zeros(1), np.zeros(1)], lr=0.1).state_dict())
    assert str(our_error.value) == str(torch_error.value)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        SGD([np.zeros(1)]).load_state_dict({"state": {}, "param_groups": []})


@pytest.mark.parametrize("optimizer_class", OPTIMIZERS)
def test_every_optimizer_checks_its_params_and_gradients(optimizer_class):
    with pytest.raises(TypeError, match="wrap it in a list"):
        optimizer_class(np.zeros((2, 3)))
    optimizer = optimizer_class([np.zeros((2, 3)), np.zeros(2)])
    with pytest.raises(ValueError, match="step got 1 gradients for 2 parameters"):
        optimizer.step([np.zeros((2, 3))])
    with pytest.raises(ValueError, match="gradient 1 .* dtype float32"):
        optimizer.step([np.zeros((2, 3)), np.zeros(2, dtype=np.float32)])


@pytest.mark.parametrize("optimizer_class", OPTIMIZERS)
def test_every_optimizer_leaves_the_gradients_alone(optimizer_class):
    grads = [np.full((2, 3), 2.0), np.asarray(-1.0)]
    optimizer = optimizer_class([np.ones((2, 3)), np.asarray(0.5)], weight_decay=0.1, maximize=True)
    for _ in range(2):
        optimizer.step(grads)
    np.testing.assert_array_equal(grads[0], 2.0)
    np.testing.assert_array_equal(grads[1], -1.0)
