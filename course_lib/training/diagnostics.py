"""Looking inside a network: the spread of every linear layer's output and of its weight
gradient on one batch, the two curves `plots.plot_layer_statistics` draws."""
import torch
from torch import nn

from ..errors import CourseError


def _spread(tensor):
    # population std (numpy's np.std, as assignment 02 measured it), accumulated in float64
    return float(tensor.detach().double().std(correction=0))


def layer_statistics(model, inputs, targets, loss_fn):
    """One forward and backward pass of `model` on a batch, measured per `nn.Linear`
    (in the order `model.modules()` lists them, which is the order they run in for the
    course's models):

    - "activation_std": the standard deviation of the layer's output, the pre-activations
      Z_l, over all its entries;
    - "gradient_std": that of the gradient of `loss_fn(model(inputs), targets)` with respect
      to the layer's weight (nan for a frozen weight).

    A measurement, not a training step: the model stays in the mode it is in (dropout
    draws its masks if it is training), the `.grad` of its parameters is left untouched,
    its buffers (batch norm's running statistics) are restored, and the hooks that read
    the outputs are removed afterwards, also on an error. Returns both lists in a dict.
    """
    linears = [module for module in model.modules() if isinstance(module, nn.Linear)]
    if not linears:
        raise CourseError(f"the model has no nn.Linear layer to measure: {type(model).__name__}")
    outputs_by_layer = {}

    def record(module, _inputs, output):
        outputs_by_layer[module] = output

    buffers = [(buffer, buffer.detach().clone()) for buffer in model.buffers()]
    hooks = [linear.register_forward_hook(record) for linear in linears]
    try:
        loss = loss_fn(model(inputs), targets)
        unused = [index for index, linear in enumerate(linears) if linear not in outputs_by_layer]
        if unused:
            raise CourseError(f"the Linear layers number {unused} (counting from 0 in model.modules()) "
                              "did not run in the forward pass, so they have nothing to measure")
        trainable = [index for index, linear in enumerate(linears) if linear.weight.requires_grad]
        gradient_stds = [float("nan")] * len(linears)
        if trainable:
            # autograd.grad rather than backward(): the gradients are returned, not added to .grad
            gradients = torch.autograd.grad(loss, [linears[index].weight for index in trainable])
            for index, gradient in zip(trainable, gradients):
                gradient_stds[index] = _spread(gradient)
    finally:
        for hook in hooks:
            hook.remove()
        # after the backward pass, which may need the buffers as the forward pass left them
        with torch.no_grad():
            for buffer, saved in buffers:
                buffer.copy_(saved)
    return {"activation_std": [_spread(outputs_by_layer[linear]) for linear in linears],
            "gradient_std": gradient_stds}
