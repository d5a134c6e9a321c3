"""One realistic wrong answer per autograded exercise, as the full source of its answer cell.

The nbgrader round trip (test_roundtrip.py) puts them into otherwise correct submissions
and requires that exactly their exercises' points are lost.
"""

WRONG_ANSWERS = {
    "01_epochs_iterations": {
        # Floor division whatever drop_last says: the last, partial batch is forgotten.
        "iterations_per_epoch": '''
def iterations_per_epoch(n_samples, batch_size, drop_last=False):
    """Number of optimizer steps in one epoch."""
    return n_samples // batch_size
''',
        # Batches as if they ran on across epoch boundaries: one partial batch in all,
        # instead of one per epoch.
        "total_updates": '''
import math

from course_lib.data import iterations_per_epoch as reference_iterations_per_epoch


def total_updates(n_samples, batch_size, epochs, drop_last=False):
    """Number of optimizer steps in `epochs` epochs."""
    if drop_last:
        return epochs * n_samples // batch_size
    return math.ceil(epochs * n_samples / batch_size)
''',
        # The permutation comes from numpy's global generator, not from `rng`: every
        # epoch is shuffled, but the run cannot be reproduced from its seed.
        "minibatch_indices": '''
def minibatch_indices(n_samples, batch_size, rng, *, shuffle=True, drop_last=False):
    """Yield the sample indices of one epoch's mini-batches."""
    order = np.random.permutation(n_samples) if shuffle else np.arange(n_samples)
    stop = n_samples - n_samples % batch_size if drop_last else n_samples
    for start in range(0, stop, batch_size):
        yield order[start:start + batch_size]
''',
        # The gradient summed over the batch instead of averaged: n times too large.
        "linear_regression_gradients": '''
def linear_regression_gradients(X, y, w, b):
    """Mean squared error of X @ w + b against y, and its gradients."""
    residuals = X @ w + b - y
    loss = np.mean(residuals ** 2)
    grad_w = 2 * X.T @ residuals
    grad_b = 2 * np.sum(residuals)
    return loss, grad_w, grad_b
''',
        # The error taken on the logits instead of the probabilities: sigmoid forgotten.
        "logistic_regression_gradients": '''
from course_lib.scratch import binary_cross_entropy_with_logits, sigmoid


def logistic_regression_gradients(X, y, w, b):
    """Mean binary cross-entropy of the logits X @ w + b, and its gradients."""
    logits = X @ w + b
    loss = binary_cross_entropy_with_logits(logits, y)
    errors = logits - y
    return loss, X.T @ errors / len(y), np.mean(errors)
''',
        # The batches are drawn once, before the loop over epochs: every epoch reuses the
        # first epoch's shuffle instead of reshuffling.
        "minibatch_gradient_descent": '''
from course_lib.data import minibatch_indices as reference_minibatch_indices
from course_lib.scratch import GradientDescentResult


def minibatch_gradient_descent(X, y, gradients, *, lr, batch_size, epochs, rng,
                               drop_last=False, w=None, b=0.0, progress=False):
    """Fit w and b by mini-batch gradient descent."""
    w = np.zeros(X.shape[1], dtype=X.dtype) if w is None else np.array(w)
    batches = list(reference_minibatch_indices(len(X), batch_size, rng, drop_last=drop_last))
    iteration_losses, epoch_losses = [], []
    for _ in tqdm(range(epochs), disable=not progress):
        loss_sum, seen = 0.0, 0
        for batch in batches:
            loss, grad_w, grad_b = gradients(X[batch], y[batch], w, b)
            w = w - lr * grad_w
            b = b - lr * grad_b
            iteration_losses.append(float(loss))
            loss_sum += float(loss) * len(batch)
            seen += len(batch)
        epoch_losses.append(loss_sum / seen)
    return GradientDescentResult(w=w, b=float(b), iteration_losses=np.array(iteration_losses),
                                 epoch_losses=np.array(epoch_losses), steps=len(iteration_losses))
''',
        # optimizer.zero_grad() forgotten: from the second step on, the gradients of all
        # earlier steps are added in.
        "train_step": '''
def train_step(model, inputs, targets, loss_fn, optimizer):
    """One iteration on one mini-batch."""
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()
''',
        # The epoch loss as the plain mean of the batch losses: the small last batch
        # counts as much as a full one.
        "train_epoch": '''
from course_lib.training import EpochStats
from course_lib.training import train_step as reference_train_step


def train_epoch(model, loader, loss_fn, optimizer, *, progress=False):
    """Train `model` for one epoch."""
    model.train()
    start = time.perf_counter()
    losses = []
    for inputs, targets in tqdm(loader, leave=False, disable=not progress):
        losses.append(reference_train_step(model, inputs, targets, loss_fn, optimizer))
    return EpochStats(mean_loss=sum(losses) / len(losses), steps=len(losses),
                      seconds=time.perf_counter() - start)
''',
    },
    "02_backprop": {
        # np.eye gives float64 rows: the right 0s and 1s, but not torch's int64.
        "one_hot": '''
def one_hot(labels, num_classes):
    """One-hot encoding of `labels`."""
    return np.eye(num_classes)[labels]
''',
        # The textbook formula without the max-shift: exp(1000) overflows to inf, inf/inf is nan.
        "softmax": '''
def softmax(input, dim):
    """Softmax of `input` along `dim`."""
    exps = np.exp(input)
    return exps / exps.sum(axis=dim, keepdims=True)
''',
        # A stable softmax, then its log: a probability that underflows to 0 gives log(0) = -inf.
        "cross_entropy": '''
def cross_entropy(input, target):
    """Mean cross-entropy of logits against class indices."""
    exps = np.exp(input - input.max(axis=1, keepdims=True))
    probabilities = exps / exps.sum(axis=1, keepdims=True)
    return -np.log(probabilities[np.arange(len(target)), target]).mean()
''',
        # input.T @ grad_output: the weight gradient of x @ W with W [in, out], transposed
        # for torch's [out, in] layout.
        "linear_backward": '''
def linear_backward(grad_output, input, weight):
    """Backward pass of output = input @ weight.T + bias."""
    return grad_output @ weight, input.T @ grad_output, grad_output.sum(axis=0)
''',
        # The mask taken from the incoming gradient instead of the ReLU's input.
        "relu_backward": '''
def relu_backward(grad_output, input):
    """Backward pass of ReLU."""
    return grad_output * (grad_output > 0)
''',
        # P - Y without the 1/N of the mean loss: N times too large.
        "cross_entropy_backward": '''
from course_lib.scratch.functional import softmax as reference_softmax


def cross_entropy_backward(input, target):
    """Gradient of the mean cross-entropy with respect to the logits."""
    probabilities = reference_softmax(input, dim=1)
    probabilities[np.arange(len(target)), target] -= 1
    return probabilities
''',
        # Averages the weight gradients over the batch although grad_logits already did.
        "mlp_backward": '''
from course_lib.scratch.backward import linear_backward as reference_linear_backward
from course_lib.scratch.backward import relu_backward as reference_relu_backward


def mlp_backward(params, cache, grad_logits):
    """Gradients of the loss with respect to every parameter of the MLP."""
    grads = {}
    delta = grad_logits
    for layer in range(len(cache), 0, -1):
        layer_input, _ = cache[layer - 1]
        grad_input, grad_weight, grad_bias = reference_linear_backward(delta, layer_input, params[f"W{layer}"])
        grads[f"W{layer}"], grads[f"b{layer}"] = grad_weight / len(layer_input), grad_bias / len(layer_input)
        if layer > 1:
            delta = reference_relu_backward(grad_input, cache[layer - 2][1])
    return grads
''',
        # The one-sided (forward) difference: an error of order eps instead of eps².
        "numerical_gradient": '''
def numerical_gradient(f, x, eps=1e-6):
    """Finite-difference gradient of f at x."""
    gradient = np.zeros_like(x)
    f_x = f(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        gradient[index] = (f(x) - f_x) / eps
        x[index] = original
    return gradient
''',
        # Xavier's spread for a square layer, 1/sqrt(fan): the gain of the ReLU is forgotten.
        "kaiming_normal_": '''
from course_lib.scratch.init import calculate_fan_in_and_fan_out, calculate_gain


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """Fill `tensor` in place with Kaiming-normal samples."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    generator = np.random.default_rng() if generator is None else generator
    tensor[...] = generator.normal(0.0, 1 / math.sqrt(fan), size=tensor.shape)
    return tensor
''',
        # Predictions as rows and targets as columns: the transpose.
        "confusion_matrix": '''
def confusion_matrix(targets, predictions, num_classes):
    """Counts [num_classes, num_classes]."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (predictions, targets), 1)
    return counts
''',
        # Precision and recall swapped: the diagonal over the row sums is the recall.
        "precision_recall": '''
def precision_recall(confusion):
    """(precision, recall) per class from a confusion matrix."""
    correct = np.diag(confusion).astype(np.float64)
    rows, columns = confusion.sum(axis=1), confusion.sum(axis=0)
    precision = np.divide(correct, rows, out=np.zeros_like(correct), where=rows > 0)
    recall = np.divide(correct, columns, out=np.zeros_like(correct), where=columns > 0)
    return precision, recall
''',
    },
    "03_optimizers": {
        # `param = ...` rebinds the local name: the caller's array never changes.
        "sgd_update": '''
def sgd_update(param, grad, state, *, lr, weight_decay=0.0):
    """One step of torch.optim.SGD without momentum."""
    param = param - lr * (grad + weight_decay * param)
''',
        # Dampening applied from the first step on: torch starts the buffer at the gradient.
        "momentum_update": '''
def momentum_update(param, grad, state, *, lr, momentum, dampening=0.0, weight_decay=0.0):
    """One step of torch.optim.SGD with momentum."""
    if weight_decay != 0:
        grad = grad + weight_decay * param
    buffer = state.get("momentum_buffer", np.zeros_like(param))
    state["momentum_buffer"] = momentum * buffer + (1 - dampening) * grad
    param -= lr * state["momentum_buffer"]
''',
        # The velocity starts at the first gradient (as torch's buffer does), not at 0.
        "ema_momentum_update": '''
def ema_momentum_update(param, grad, state, *, lr, beta):
    """One step of momentum in exponential-moving-average form."""
    if "velocity" not in state:
        state["velocity"] = grad.copy()
    else:
        state["velocity"] = beta * state["velocity"] + (1 - beta) * grad
    param -= lr * state["velocity"]
''',
        # Plain momentum's step with the buffer alone: no look-ahead.
        "nesterov_update": '''
def nesterov_update(param, grad, state, *, lr, momentum, weight_decay=0.0):
    """One step of torch.optim.SGD with nesterov=True."""
    if weight_decay != 0:
        grad = grad + weight_decay * param
    if "momentum_buffer" not in state:
        state["momentum_buffer"] = grad.copy()
    else:
        state["momentum_buffer"] = momentum * state["momentum_buffer"] + grad
    param -= lr * state["momentum_buffer"]
''',
        # eps inside the square root: indistinguishable for large gradients, not for tiny ones.
        "rmsprop_update": '''
def rmsprop_update(param, grad, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
    """One step of torch.optim.RMSprop."""
    if weight_decay != 0:
        grad = grad + weight_decay * param
    square_avg = state.get("square_avg", np.zeros_like(param))
    state["square_avg"] = alpha * square_avg + (1 - alpha) * grad ** 2
    param -= lr * grad / np.sqrt(state["square_avg"] + eps)
''',
        # Only the first moment bias-corrected: the early steps are far too large.
        "adam_update": '''
def adam_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """One step of torch.optim.Adam."""
    beta1, beta2 = betas
    if weight_decay != 0:
        grad = grad + weight_decay * param
    if not state:
        state.update(step=0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
    state["step"] += 1
    state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * grad
    state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad ** 2
    m_hat = state["exp_avg"] / (1 - beta1 ** state["step"])
    param -= lr * m_hat / (np.sqrt(state["exp_avg_sq"]) + eps)
''',
        # Adam + L2: the decay goes into the gradient instead of shrinking the weights.
        "adamw_update": '''
from course_lib.optim import adam_update as reference_adam_update


def adamw_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """One step of torch.optim.AdamW."""
    reference_adam_update(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
''',
        # The maximum of the signed gradients: negative gradients never count.
        "adamax_update": '''
def adamax_update(param, grad, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """One step of torch.optim.Adamax."""
    beta1, beta2 = betas
    if weight_decay != 0:
        grad = grad + weight_decay * param
    if not state:
        state.update(step=0, exp_avg=np.zeros_like(param), exp_inf=np.zeros_like(param))
    state["step"] += 1
    state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * grad
    state["exp_inf"] = np.maximum(beta2 * state["exp_inf"], grad + eps)
    param -= lr / (1 - beta1 ** state["step"]) * state["exp_avg"] / state["exp_inf"]
''',
    },
    "04_schedules": {
        # Epochs counted from 1: the first decay comes one epoch early, at epoch step_size - 1.
        "step_lr": '''
def step_lr(epoch, *, base_lr, step_size, gamma=0.1):
    """Learning rate at step `epoch` of step decay."""
    return base_lr * gamma ** ((epoch + 1) // step_size)
''',
        # staircase is ignored: the exponent is never rounded down.
        "exponential_lr": '''
def exponential_lr(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
    """Learning rate at step `epoch` of exponential decay."""
    return base_lr * gamma ** (epoch / decay_epochs)
''',
        # eta_min added on top instead of being the floor: the cosine runs from base_lr + eta_min
        # down to eta_min (right only for eta_min=0).
        "cosine_annealing_lr": '''
def cosine_annealing_lr(epoch, *, base_lr, T_max, eta_min=0.0):
    """Learning rate at step `epoch` of cosine annealing."""
    return eta_min + base_lr * (1 + math.cos(math.pi * epoch / T_max)) / 2
''',
        # The cosine after the warmup takes total_steps as its length instead of
        # total_steps - warmup_steps: it never reaches eta_min.
        "warmup_cosine_lr": '''
def warmup_cosine_lr(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    """Learning rate at step `step` of linear warmup followed by cosine annealing."""
    if step < warmup_steps:
        return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
    progress = (step - warmup_steps) / total_steps
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * progress)) / 2
''',
        # The phases end at pct_start * total_steps (and 2 * pct_start * total_steps) without
        # torch's - 1 (and - 2): the peak comes one step late.
        "one_cycle_lr": '''
def one_cycle_lr(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
                 three_phase=False):
    """Learning rate at iteration `step` of the one-cycle policy."""
    initial_lr = max_lr / div_factor
    final_lr = initial_lr / final_div_factor
    if three_phase:
        phases = [(pct_start * total_steps, initial_lr, max_lr),
                  (2 * pct_start * total_steps, max_lr, initial_lr),
                  (total_steps - 1, initial_lr, final_lr)]
    else:
        phases = [(pct_start * total_steps, initial_lr, max_lr), (total_steps - 1, max_lr, final_lr)]
    phase_start = 0.0
    for index, (phase_end, start_lr, end_lr) in enumerate(phases):
        if step <= phase_end or index == len(phases) - 1:
            fraction = (step - phase_start) / (phase_end - phase_start)
            return end_lr + (start_lr - end_lr) / 2 * (1 + math.cos(math.pi * fraction))
        phase_start = phase_end
''',
        # triangular2 with the cycle counted from 0: the amplitude is halved already in the
        # first cycle.
        "cyclic_lr": '''
def cyclic_lr(step, *, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular", gamma=1.0):
    """Learning rate at iteration `step` of a cyclical schedule."""
    if step_size_down is None:
        step_size_down = step_size_up
    cycle_length = step_size_up + step_size_down
    rising_fraction = step_size_up / cycle_length
    cycle = step // cycle_length
    position = step / cycle_length - cycle
    if position <= rising_fraction:
        height = position / rising_fraction
    else:
        height = (position - 1) / (rising_fraction - 1)
    if mode == "triangular":
        scale = 1.0
    elif mode == "triangular2":
        scale = 1 / 2 ** (cycle + 1)
    else:
        scale = gamma ** step
    return base_lr + (max_lr - base_lr) * height * scale
''',
        # The moving average is recorded without its bias correction: the first smoothed losses
        # come out far too low (a tenth of the loss at beta = 0.9), and the stop compares with them.
        "lr_range_test": '''
def lr_range_test(train_step, *, start_lr=1e-5, end_lr=10.0, num_iter=1200, beta=0.95, diverge_th=5.0):
    """The LR range test's sweep."""
    lrs, losses, smoothed_losses = [], [], []
    average, lowest = 0.0, math.inf
    for i in range(num_iter):
        lr = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))
        loss = float(train_step(lr))
        average = beta * average + (1 - beta) * loss
        lrs.append(lr)
        losses.append(loss)
        smoothed_losses.append(average)
        if not math.isfinite(average) or average > diverge_th * lowest:
            break
        lowest = min(lowest, average)
    return lrs, losses, smoothed_losses
''',
        # Reduces as soon as num_bad_epochs reaches patience (>=), one epoch earlier than torch,
        # which waits until it exceeds patience.
        "ReduceLROnPlateau": '''
class ReduceLROnPlateau:
    """Reduce optimizer.lr when the metric stops improving."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0):
        self.optimizer = optimizer
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def step(self, metrics):
        """Take one epoch's metric and reduce the rate if needed."""
        if self._is_improvement(metrics):
            self.best = metrics
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs >= self.patience:
            self.optimizer.lr = max(self.optimizer.lr * self.factor, self.min_lr)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0

    def _is_improvement(self, metric):
        if self.mode == "min":
            bound = self.best * (1 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            return metric < bound
        bound = self.best * (1 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        return metric > bound
''',
    },
    "05_regularization": {
        # The biases are penalised too: the loop adds every parameter, not only the weights.
        "l2_penalty": '''
def l2_penalty(params, weight):
    """weight / 2 * sum of squared entries of the weights (biases are not penalised)."""
    total = 0.0
    for name, param in params.items():
        total += np.sum(param ** 2)
    return weight / 2 * total
''',
        # sign written as np.where(W >= 0, ...): entries where W == 0 get +weight instead of 0.
        "l1_penalty_gradients": '''
def l1_penalty_gradients(params, weight):
    """Gradients of weight * sum |W| (biases excluded), keyed like params."""
    grads = {}
    for name, param in params.items():
        if name.startswith("b"):
            grads[name] = np.zeros_like(param)
        else:
            grads[name] = np.where(param >= 0, weight, -weight)
    return grads
''',
        # p used as the probability of keeping an entry (and 1 / p as the scale): right only at p = 0.5.
        "dropout": '''
def dropout(input, p=0.5, training=True, *, generator):
    """Inverted dropout on a numpy array, as torch.nn.functional.dropout."""
    if not training:
        return input
    if p == 1:
        return np.zeros_like(input)
    keep = generator.random(input.shape) < p
    return input * keep / p
''',
        # Each array clipped by its own norm instead of by the norm of all the gradients together.
        "clip_grad_norm_": '''
def clip_grad_norm_(grads, max_norm):
    """Scale grads in place so that their total norm is at most max_norm; return the norm."""
    total_norm = np.sqrt(sum(np.sum(grad ** 2) for grad in grads))
    for grad in grads:
        norm = np.sqrt(np.sum(grad ** 2))
        grad *= min(1.0, max_norm / (norm + 1e-6))
    return float(total_norm)
''',
        # patience off by one: stops when wait EXCEEDS patience, one epoch too late.
        "EarlyStopper": '''
class EarlyStopper:
    """Decides when to stop training."""

    def __init__(self, patience=0, min_delta=0.0, mode="min"):
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best = float("inf") if mode == "min" else -float("inf")
        self.best_epoch = 0
        self.wait = 0
        self.epoch = 0

    def step(self, value):
        """Record one epoch's value; return True when training should stop."""
        self.epoch += 1
        if self.mode == "min":
            improved = value < self.best - self.min_delta
        else:
            improved = value > self.best + self.min_delta
        if improved:
            self.best, self.best_epoch, self.wait = value, self.epoch, 0
            return False
        self.wait += 1
        return self.wait > self.patience
''',
        # eps added to the standard deviation instead of inside the square root.
        "batch_norm_forward": '''
def batch_norm_forward(input, weight, bias, eps=1e-5):
    """Training-mode batch normalisation of input [N, C]."""
    mean = input.mean(axis=0)
    std = input.std(axis=0)
    return (input - mean) / (std + eps) * weight + bias
''',
        # Rebinding instead of updating in place: the caller's running statistics never change.
        "update_running_stats": '''
def update_running_stats(running_mean, running_var, input, momentum=0.1):
    """Update BatchNorm1d's running statistics in place from the batch input [N, C]."""
    running_mean = (1 - momentum) * running_mean + momentum * input.mean(axis=0)
    running_var = (1 - momentum) * running_var + momentum * input.var(axis=0, ddof=1)
''',
        # Mean and variance treated as constants: only the direct path through x_hat.
        "batch_norm_backward": '''
def batch_norm_backward(grad_output, input, weight, eps=1e-5):
    """Gradients of training-mode batch_norm_forward w.r.t. input, weight and bias."""
    std = np.sqrt(input.var(axis=0) + eps)
    normalized = (input - input.mean(axis=0)) / std
    grad_input = grad_output * weight / std
    return grad_input, (grad_output * normalized).sum(axis=0), grad_output.sum(axis=0)
''',
        # The targets are not permuted: each soft target is just the sample's own one-hot vector.
        "mixup_batch": '''
def mixup_batch(inputs, targets, lam, permutation, num_classes):
    """Mix a batch with its permutation: (mixed_inputs, soft_targets)."""
    one_hot = F.one_hot(targets, num_classes).to(inputs.dtype)
    mixed_inputs = lam * inputs + (1 - lam) * inputs[permutation]
    soft_targets = lam * one_hot + (1 - lam) * one_hot
    return mixed_inputs, soft_targets
''',
        # torch.roll: the pixels pushed out come back on the other side instead of being zeros.
        "shift_images": '''
def shift_images(images, down, right):
    """images [N, H, W] moved down and right, vacated pixels 0."""
    return torch.roll(images, shifts=(down, right), dims=(1, 2))
''',
    },
    "06_mnist": {
        # the spread averaged over images: the mean of the per-image standard deviations,
        # not the standard deviation of all pixels together
        "pixel_mean_and_std": '''
def pixel_mean_and_std(images):
    """Mean and (population) standard deviation of all pixel values, scaled to [0, 1]."""
    values = np.asarray(images, dtype=np.float64) / 255
    return float(values.mean()), float(values.std(axis=(1, 2)).mean())
''',
        # dilation left out of the kernel's span
        "conv_output_size": '''
def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """Output size along one dimension of a convolution."""
    return (input_size + 2 * padding - kernel_size) // stride + 1
''',
        # stride=None read as a stride of 1, as for a convolution
        "pool_output_size": '''
import math


def pool_output_size(input_size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Output size along one dimension of max pooling."""
    stride = stride or 1
    span = (input_size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride
    size = (math.ceil(span) if ceil_mode else math.floor(span)) + 1
    if ceil_mode and (size - 1) * stride >= input_size + padding:
        size -= 1
    return size
''',
        # the kernel flattened channels-last, (kH, kW, C_in), while unfold's columns are
        # (C_in, kH, kW): right for one input channel only
        "conv2d": '''
def conv2d(input, weight, bias=None, stride=1, padding=0):
    """2-D convolution by im2col."""
    n, _, height, width = input.shape
    out_channels, _, kernel_h, kernel_w = weight.shape
    columns = F.unfold(input, (kernel_h, kernel_w), padding=padding, stride=stride)
    output = weight.permute(0, 2, 3, 1).reshape(out_channels, -1) @ columns
    if bias is not None:
        output = output + bias.reshape(1, -1, 1)
    out_h = (height + 2 * padding - kernel_h) // stride + 1
    out_w = (width + 2 * padding - kernel_w) // stride + 1
    return output.reshape(n, out_channels, out_h, out_w)
''',
        # Tensor.var's default is the unbiased variance (divided by N·H·W - 1)
        "batch_norm2d_statistics": '''
def batch_norm2d_statistics(input):
    """Per-channel mean and variance over N, H and W."""
    return input.mean(dim=(0, 2, 3)), input.var(dim=(0, 2, 3))
''',
        # each micro-batch's mean loss back-propagated as it is: k micro-batches give k
        # times the gradient
        "accumulated_step": '''
def accumulated_step(model, loss_fn, micro_batches, optimizer):
    """One optimizer step on all micro-batches together."""
    optimizer.zero_grad()
    losses, counts = [], []
    for inputs, targets in micro_batches:
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        losses.append(loss.item())
        counts.append(len(targets))
    optimizer.step()
    return sum(loss * count for loss, count in zip(losses, counts)) / sum(counts)
''',
        # the sampler's padding forgotten: every shard taken as N // W samples
        "distributed_iterations_per_epoch": '''
def distributed_iterations_per_epoch(n_samples, batch_size, world_size, *, sampler_drop_last=False,
                                     loader_drop_last=False):
    """Optimizer steps per epoch on each worker."""
    shard = n_samples // world_size
    return shard // batch_size if loader_drop_last else -(-shard // batch_size)
''',
        # the base left out of the optimizer but not frozen: backward still computes its
        # gradients, and nothing ever clears them
        "transfer_parameter_groups": '''
def transfer_parameter_groups(model, mode, lr, base_lr_factor=0.1):
    """Set requires_grad for `mode` and return the optimizer's parameter groups."""
    base, head = list(model[:-1].parameters()), list(model[-1].parameters())
    for parameter in base + head:
        parameter.requires_grad_(True)
    if mode == "frozen":
        return [{"params": head, "lr": lr}]
    if mode == "fine_tune":
        return [{"params": base, "lr": lr * base_lr_factor}, {"params": head, "lr": lr}]
    return [{"params": base + head, "lr": lr}]
''',
        # the other common convention: ε spread over the C - 1 wrong classes only, the
        # true class's target exactly 1 - ε
        "smoothed_cross_entropy": '''
def smoothed_cross_entropy(input, target, label_smoothing=0.0):
    """Mean cross-entropy with label smoothing."""
    n_classes = input.shape[1]
    targets = torch.full_like(input, label_smoothing / (n_classes - 1))
    targets.scatter_(1, target.reshape(-1, 1), 1 - label_smoothing)
    return -(targets * F.log_softmax(input, dim=1)).sum(dim=1).mean()
''',
        # every non-empty bin weighted the same, however few predictions fall in it
        "expected_calibration_error": '''
def expected_calibration_error(confidences, correct, n_bins=15):
    """Mean |accuracy - confidence| over equal-width confidence bins."""
    confidences = np.asarray(confidences, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    bins = np.clip(np.ceil(confidences * n_bins).astype(int) - 1, 0, n_bins - 1)
    gaps = [abs(correct[bins == b].mean() - confidences[bins == b].mean()) for b in range(n_bins) if (bins == b).any()]
    return float(np.mean(gaps))
''',
    },
    "07_imdb": {
        # The typographic apostrophes and the case are normalised, but the <br /> tags are
        # left in the text: each gives a token "br". (Each 07 answer imports what it uses,
        # so that it runs whatever the setup cell imports.)
        "tokenize": '''
import re


def tokenize(text):
    """The tokens of one review, a list of str."""
    text = text.replace("\\u2019", "'").replace("\\u2018", "'").lower()
    return re.findall(r"[^\\W_]+(?:'[^\\W_]+)*|[!?]", text)
''',
        # The specials taken out (and min_freq applied) before the cut to max_tokens - len(specials):
        # torchtext cuts first, so a special that occurs in the reviews uses up a place.
        "vocabulary_tokens": '''
from collections import Counter


def vocabulary_tokens(iterator, min_freq=1, specials=None, special_first=True, max_tokens=None):
    """The vocabulary's tokens in id order, as build_vocab_from_iterator(...).get_itos() gives them."""
    specials = list(specials or [])
    counts = Counter()
    for tokens in iterator:
        counts.update(tokens)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    tokens = [token for token, count in ordered if count >= min_freq and token not in specials]
    if max_tokens is not None:
        tokens = tokens[:max_tokens - len(specials)]
    return specials + tokens if special_first else tokens + specials
''',
        # truncating="pre" read as "keep the start": a long review keeps its first maxlen ids
        # instead of its last.
        "pad_sequences": '''
import numpy as np


def pad_sequences(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
    """The sequences cut and padded to one length, an int64 array [N, maxlen]."""
    width = max((len(ids) for ids in sequences), default=0) if maxlen is None else maxlen
    out = np.full((len(sequences), width), value, dtype=np.int64)
    for row, ids in zip(out, sequences):
        kept = list(ids)[:width] if truncating == "pre" else list(ids)[-width:]
        if padding == "pre":
            row[width - len(kept):] = kept
        else:
            row[:len(kept)] = kept
    return out
''',
        # The offsets as the cumulative lengths after a 0: B + 1 entries, the total last, which
        # is what include_last_offset=True wants, not EmbeddingBag's default.
        "embedding_bag_offsets": '''
import torch


def embedding_bag_offsets(sequences):
    """(input, offsets) for nn.EmbeddingBag: all the ids in one row, and where each sequence starts."""
    input = torch.cat([torch.as_tensor(ids, dtype=torch.int64) for ids in sequences])
    lengths = torch.tensor([len(ids) for ids in sequences], dtype=torch.int64)
    offsets = torch.cat([torch.zeros(1, dtype=torch.int64), lengths.cumsum(0)])
    return input, offsets
''',
        # The hash in Python integers, which never wrap at 2**64 as fastText's uint64_t does:
        # bigrams come out right, longer n-grams do not.
        "hashed_ngrams": '''
import numpy as np


def hashed_ngrams(ids, vocab_size, buckets, n=2):
    """The ids, then the ids of their hashed n-grams (lengths 2 to n), an int64 array."""
    ids = [int(token) for token in ids]
    result = list(ids)
    for start in range(len(ids)):
        h = ids[start]
        for end in range(start + 1, min(start + n, len(ids))):
            h = h * 116049371 + ids[end]
            result.append(vocab_size + h % buckets)
    return np.array(result, dtype=np.int64)
''',
        # The logits thresholded at 0.5, as if they were probabilities.
        "binary_accuracy": '''
def binary_accuracy(logits, targets):
    """Fraction of samples whose logit predicts their 0/1 target, a float."""
    predictions = (logits.reshape(-1) > 0.5).long()
    return (predictions == targets.reshape(-1).long()).float().mean().item()
''',
        # The loss as written on paper, log(sigmoid(z)) and log(1 - sigmoid(z)): log 0 for a
        # logit of ±100.
        "binary_cross_entropy_with_logits": '''
import torch


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """The binary cross-entropy of logits input against targets in [0, 1], reduced."""
    p = torch.sigmoid(input)
    losses = -(target * torch.log(p) + (1 - target) * torch.log(1 - p))
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses
''',
        # [z, 0]: the logit put in class 0's column.
        "two_class_logits": '''
import torch


def two_class_logits(logits):
    """[N, 2] logits whose cross-entropy is the binary cross-entropy of `logits` [N]."""
    return torch.stack([logits, torch.zeros_like(logits)], dim=1)
''',
        # alpha forgotten: a word that only one class uses gets a ratio of ±inf.
        "log_count_ratio": '''
import torch


def log_count_ratio(features, labels, alpha=1.0):
    """NBSVM's log-count ratio r [V] of dense features [N, V] and 0/1 labels [N]."""
    p = features[labels == 1].sum(dim=0)
    q = features[labels == 0].sum(dim=0)
    return torch.log(p / p.sum()) - torch.log(q / q.sum())
''',
        # The padding zeroed, then the mean over all T positions: divided by the padded length.
        "masked_mean": '''
def masked_mean(hidden, mask):
    """The mean of each sequence's real positions, [B, D]; zeros for a sequence without any."""
    return (hidden * mask.unsqueeze(-1)).mean(dim=1)
''',
    },
}


def defined_by(assignment, grade_id, namespace):
    """The function or class the wrong answer cell for `grade_id` defines, executed with the
    names of `namespace` (those the notebook's setup cell imports)."""
    namespace = dict(namespace)
    exec(WRONG_ANSWERS[assignment][grade_id], namespace)
    return namespace[grade_id]
