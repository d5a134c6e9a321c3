"""The check of transfer learning's parameter groups (assignment 06):
`transfer_parameter_groups(model, mode, lr, base_lr_factor=0.1)` for a model whose last
module `model[-1]` is the new head and whose base `model[:-1]` is everything before it:

- "frozen": the base's parameters get requires_grad=False, the head's True; returns
  [{"params": head parameters, "lr": lr}];
- "fine_tune": every parameter trains; returns [{"params": base parameters, "lr": lr *
  base_lr_factor}, {"params": head parameters, "lr": lr}];
- "scratch": every parameter trains; returns [{"params": all parameters, "lr": lr}].

Scenarios, simplest first: the three modes on a small CNN in float64 whose base holds a
Conv2d, a BatchNorm2d and a Linear layer (weights, biases and BatchNorm's weight and bias);
"fine_tune" with an explicit base_lr_factor and "frozen" on a model of two Sequentials, the
head itself a Linear-ReLU-Linear stack; "fine_tune" and "scratch" on a model that comes in
with its base frozen, as a "frozen" call leaves it. `seed` draws the layer widths, the
learning rates and the factor.

For each, in order: the result's form (a list of dicts with "params", a list of the model's
own parameters, and "lr"; no parameter twice); which parameters have requires_grad; which
group holds which parameters at which lr; parameter values left as they were; and one step
of torch.optim.SGD (momentum 0.9) and of AdamW (weight decay 0.01) built from the groups,
after which every frozen parameter is bit for bit as before and every other has moved by its
group's lr, as the first step of each optimizer is written out by hand. A wrong outcome is
named by the slip that reproduces it exactly (a small wrong function next to its sentence:
the head frozen instead of the base; the base left trainable but left out of the optimizer;
only the base's weights, or only its Conv2d and Linear layers, frozen; both groups at lr;
base_lr_factor on the head; a base frozen before the call left frozen), otherwise by what
differs; a generator of parameters is named by its kind.

This exercise is about torch: the answer may use any of it, but not its course_lib
reference (see `harness`).
"""
import copy
from builtins import (
    AttributeError, Exception, TypeError, all, bool, dict, enumerate, float, frozenset, hasattr, id, int,
    isinstance, len, list, sorted, str, tuple, type, zip,
)
from types import SimpleNamespace

import torch
from torch import nn

from course_lib.training import transfer as _transfer

from ._trusted import default_rng, isclose
from .failure import fail, kind_of, listing, mistake, number, wrong_kind
from .harness import Answer, exercise
from .training import _forked

TRANSFER_PARAMETER_GROUPS = exercise(_transfer.transfer_parameter_groups)

DEFAULT_BASE_LR_FACTOR = 0.1
LEARNING_RATES = (0.1, 0.05, 0.02, 0.01, 0.003)
BASE_LR_FACTORS = (0.25, 0.2, 0.05, 0.5)
MOMENTUM, WEIGHT_DECAY, BETAS, EPS = 0.9, 0.01, (0.9, 0.999), 1e-8
RTOL, ATOL = 1e-12, 1e-15
SIZE = 8  # images are 1 × SIZE × SIZE
RECIPE = ('base = list(model[:-1].parameters()), head = list(model[-1].parameters()); "frozen": '
          'requires_grad=False on every base parameter, True on the head\'s, return [{"params": head, "lr": lr}]; '
          '"fine_tune": requires_grad=True everywhere, return [{"params": base, "lr": lr * base_lr_factor}, '
          '{"params": head, "lr": lr}]; "scratch": requires_grad=True everywhere, return '
          '[{"params": base + head, "lr": lr}].')


# ---------------------------------------------------------------------------- models

def _cnn(rng):
    """Conv2d → BatchNorm2d → ReLU → MaxPool2d → Flatten → Linear → ReLU → head Linear."""
    channels, hidden, classes = (int(rng.integers(2, 5)), int(rng.integers(4, 9)), int(rng.integers(2, 5)))
    pooled = (SIZE - 2) // 2
    return nn.Sequential(nn.Conv2d(1, channels, 3), nn.BatchNorm2d(channels), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(channels * pooled * pooled, hidden), nn.ReLU(),
                         nn.Linear(hidden, classes)), classes


def _two_parts(rng):
    """nn.Sequential(base, head): base Conv2d → BatchNorm2d → ReLU → Flatten, head Linear → ReLU → Linear."""
    channels, hidden, classes = (int(rng.integers(2, 4)), int(rng.integers(4, 9)), int(rng.integers(2, 5)))
    base = nn.Sequential(nn.Conv2d(1, channels, 3), nn.BatchNorm2d(channels), nn.ReLU(), nn.Flatten())
    head = nn.Sequential(nn.Linear(channels * (SIZE - 2) ** 2, hidden), nn.ReLU(), nn.Linear(hidden, classes))
    return nn.Sequential(base, head), classes


MODELS = {
    "cnn": (_cnn, "a CNN whose base is Conv2d → BatchNorm2d → ReLU → MaxPool2d → Flatten → Linear → ReLU "
                  "and whose head is the last Linear"),
    "two_parts": (_two_parts, "nn.Sequential(base, head), base Conv2d → BatchNorm2d → ReLU → Flatten, head "
                              "Linear → ReLU → Linear"),
}


def _scenario(mode, model, *, explicit_factor=False, came_frozen=False):
    return SimpleNamespace(mode=mode, model=model, explicit_factor=explicit_factor, came_frozen=came_frozen)


SCENARIOS = (
    _scenario("frozen", "cnn"),
    _scenario("fine_tune", "cnn"),
    _scenario("scratch", "cnn"),
    _scenario("fine_tune", "two_parts", explicit_factor=True),
    _scenario("frozen", "two_parts"),
    _scenario("fine_tune", "cnn", explicit_factor=True, came_frozen=True),
    _scenario("scratch", "two_parts", came_frozen=True),
)


# ------------------------------------------------------------------- book and mistakes
# Each takes the base's and the head's parameters (lists), lr, base_lr_factor and the base's
# modules (for the slips that freeze layer by layer), sets requires_grad and returns the groups.

def _set_trainable(parameters, trainable):
    for parameter in parameters:
        parameter.requires_grad_(trainable)


def _book(mode):
    """What the docstring asks for in `mode`."""
    def decide(base, head, lr, factor, modules):
        _set_trainable(base, mode != "frozen")
        _set_trainable(head, True)
        if mode == "frozen":
            return [{"params": head, "lr": lr}]
        if mode == "fine_tune":
            return [{"params": base, "lr": lr * factor}, {"params": head, "lr": lr}]
        return [{"params": base + head, "lr": lr}]
    return decide


HEAD_FROZEN = ("the head is frozen and the base trains: the base is model[:-1], everything before the last "
               "module, and the head model[-1], the last module; \"frozen\" freezes the base and trains the head.")


@mistake(HEAD_FROZEN)
def _freezes_the_head_steps_the_base(base, head, lr, factor, modules):
    _set_trainable(head, False)
    return [{"params": base, "lr": lr}]


@mistake(HEAD_FROZEN)
def _freezes_the_head_steps_the_head(base, head, lr, factor, modules):
    _set_trainable(head, False)
    return [{"params": head, "lr": lr}]


@mistake("the base's parameters were left out of the optimizer but kept requires_grad=True. The optimizer "
         "then leaves them as they are, so training looks the same, but they are not frozen: backward() "
         "still computes their gradients at every step (the time freezing is meant to save), "
         "optimizer.zero_grad() never clears those gradients, so they pile up from step to step, and "
         "fit's gradient norm and clip_grad_norm count them, so clipping shrinks the head's step more and "
         "more. Set requires_grad=False on every base parameter.")
def _omits_the_base_but_leaves_it_trainable(base, head, lr, factor, modules):
    return [{"params": head, "lr": lr}]


def _freeze_weights_of(modules, kinds):
    for module in modules:
        if isinstance(module, kinds):
            module.weight.requires_grad_(False)


@mistake("only the base's weights are frozen: its biases (the Conv2d's, the Linear's and BatchNorm's bias) "
         "still train. Freeze every parameter of model[:-1].parameters(), biases included.")
def _freezes_only_the_weights(base, head, lr, factor, modules):
    _freeze_weights_of(modules, (nn.Conv2d, nn.Linear, nn.BatchNorm2d))
    return [{"params": head, "lr": lr}]


@mistake("only the base's Conv2d and Linear layers are frozen: BatchNorm's weight and bias still train "
         "(they are parameters too). Freeze every parameter of model[:-1].parameters().")
def _freezes_only_convolutions_and_linear_layers(base, head, lr, factor, modules):
    for module in modules:
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            _set_trainable(module.parameters(), False)
    return [{"params": head, "lr": lr}]


@mistake("only the weights of the base's Conv2d and Linear layers are frozen: their biases and BatchNorm's "
         "weight and bias still train. Freeze every parameter of model[:-1].parameters().")
def _freezes_only_convolution_and_linear_weights(base, head, lr, factor, modules):
    _freeze_weights_of(modules, (nn.Conv2d, nn.Linear))
    return [{"params": head, "lr": lr}]


@mistake("both groups have the learning rate lr: \"fine_tune\" gives the pretrained base lr * base_lr_factor, "
         "so it changes more slowly than the new head.")
def _one_rate_for_both(base, head, lr, factor, modules):
    _set_trainable(base + head, True)
    return [{"params": base, "lr": lr}, {"params": head, "lr": lr}]


@mistake("the head has lr * base_lr_factor and the base lr, the other way round: the base, already trained, "
         "is the part to move slowly — {\"params\": base, \"lr\": lr * base_lr_factor}, {\"params\": head, "
         "\"lr\": lr}.")
def _factor_on_the_head(base, head, lr, factor, modules):
    _set_trainable(base + head, True)
    return [{"params": base, "lr": lr}, {"params": head, "lr": lr * factor}]


def _left_as_they_came(mode):
    @mistake("the model came in with its base frozen (requires_grad=False, as a \"frozen\" call leaves it), "
             f"and \"{mode}\" left it so: the base's parameters are in the optimizer but get no gradient, so "
             "they never change. Set requires_grad=True on every parameter in \"fine_tune\" and \"scratch\".")
    def leaves_the_base_frozen(base, head, lr, factor, modules):
        groups = _book(mode)(base, head, lr, factor, modules)
        _set_trainable(base, False)
        return groups
    return leaves_the_base_frozen


MISTAKES = {
    "frozen": (_freezes_the_head_steps_the_base, _freezes_the_head_steps_the_head,
               _omits_the_base_but_leaves_it_trainable, _freezes_only_the_weights,
               _freezes_only_convolutions_and_linear_layers, _freezes_only_convolution_and_linear_weights),
    "fine_tune": (_one_rate_for_both, _factor_on_the_head, _left_as_they_came("fine_tune")),
    "scratch": (_left_as_they_came("scratch"),),
}

GENERATOR = ("is {kind} (what .parameters() returns, or itertools.chain or filter), not a list. An iterator "
             "can be read only once: the optimizer's constructor reads it, and whatever reads it again — a "
             "second optimizer, counting the parameters, a loop that sets requires_grad before the return — "
             "finds it empty. Return a list: list(model[-1].parameters()).")


# ---------------------------------------------------------------------------- outcomes

def _problem(scenario, rng, seed):
    """(model, its description, a batch of images and their targets), in float64."""
    build, words = MODELS[scenario.model]

    def built():
        model, classes = build(rng)
        model = model.double()
        inputs = torch.randn(6, 1, SIZE, SIZE, dtype=torch.float64)
        return model, inputs, torch.randint(0, classes, (6,))
    model, inputs, targets = _forked(seed, built)
    if scenario.came_frozen:
        _set_trainable(model[:-1].parameters(), False)
    return model, words, inputs, targets


def _names(model):
    """{id(parameter): 'name (Module)'} for every parameter, and the ids of the base's."""
    owners = {}
    for module_name, module in model.named_modules():
        for parameter_name, parameter in module.named_parameters(recurse=False):
            full = f"{module_name}.{parameter_name}" if module_name else parameter_name
            owners[id(parameter)] = f"{full} ({type(module).__name__})"
    base = frozenset(id(parameter) for parameter in model[:-1].parameters())
    return owners, base


def _outcome(model, groups):
    """What an answer decided, by parameter position: (requires_grad per parameter, groups as
    (frozenset of positions, lr))."""
    position = {id(parameter): index for index, parameter in enumerate(model.parameters())}
    trainable = tuple(parameter.requires_grad for parameter in model.parameters())
    return trainable, tuple((frozenset(position[id(parameter)] for parameter in group["params"]), float(group["lr"]))
                            for group in groups)


def _same(outcome, other):
    (trainable, groups), (other_trainable, other_groups) = outcome, other
    if trainable != other_trainable or len(groups) != len(other_groups):
        return False
    for (members, lr), (other_members, other_lr) in zip(groups, other_groups):
        if members != other_members or not bool(isclose(lr, other_lr, rtol=RTOL, atol=ATOL)):
            return False
    return True


def _decided_by(decide, pristine, lr, factor):
    """The outcome of `decide` (the book's or a slip's) on a copy of the model as it came."""
    model = copy.deepcopy(pristine)
    base, head = list(model[:-1].parameters()), list(model[-1].parameters())
    return _outcome(model, decide(base, head, lr, factor, list(model[:-1].modules())))


def _explanation(outcome, pristine, mode, lr, factor):
    """The sentence of the slip whose small wrong function decides exactly as the answer did."""
    for wrong in MISTAKES[mode]:
        if _same(_decided_by(wrong, pristine, lr, factor), outcome):
            return wrong.explanation
    return None


# ---------------------------------------------------------------------------- checking

def _check_form(context, call, result, names):
    """The groups as a list of dicts whose "params" are lists of the model's own parameters
    and whose "lr" is a number, no parameter twice."""
    __tracebackhide__ = True
    wanted = 'a list of parameter groups, [{"params": [...], "lr": ...}, ...]'
    if not isinstance(result, (list, tuple)):
        wrong_kind(f"{context}: {call} returned", result, wanted)
    if len(result) == 0:
        fail(f"{context}: {call} returned an empty list: the optimizer needs at least one group to train.", RECIPE)
    seen = {}
    for index, group in enumerate(result):
        where = f"{context}: group {index} of the list {call} returned"
        if isinstance(group, torch.Tensor):
            fail(f"{context}: {call} returned a list of tensors, not of parameter groups: wrap the parameters in dicts "
                 f"that say their learning rate, [{{\"params\": parameters, \"lr\": lr}}].", RECIPE)
        if not isinstance(group, dict):
            fail(f"{where} is {kind_of(group)}, not a dict {{\"params\": [...], \"lr\": ...}}.", RECIPE)
        keys = sorted(str(key) for key in group)
        if "params" not in group or "lr" not in group:
            fail(f"{where} has the keys {keys}; each group needs \"params\" (its parameters) and \"lr\" (their "
                 f"learning rate: without it the optimizer would use its own default).", RECIPE)
        if len(group) != 2:
            fail(f"{where} has the keys {keys}; return only \"params\" and \"lr\": any other key overrides the "
                 f"setting the optimizer is built with (momentum, weight_decay, …) for that group.")
        parameters, lr = group["params"], group["lr"]
        if hasattr(parameters, "__next__"):
            fail(f"{where}: its \"params\" " + GENERATOR.format(kind=kind_of(parameters)))
        if isinstance(parameters, torch.Tensor):
            fail(f"{where}: its \"params\" is a single tensor: put the group's parameters in a list.")
        if not isinstance(parameters, (list, tuple)):
            fail(f"{where}: its \"params\" is {kind_of(parameters)}: make it a list of parameters.")
        if isinstance(lr, bool) or not isinstance(lr, (int, float)):
            fail(f"{where}: its \"lr\" is {kind_of(lr)}: make it a number (a tensor: .item()).")
        for parameter in parameters:
            if id(parameter) not in names:
                fail(f"{where}: its \"params\" holds {kind_of(parameter)} that is not one of model's parameters: "
                     f"p.clone(), p.detach() or p.data are new tensors the model never uses. Put the parameters "
                     f"themselves in the list.")
            if id(parameter) in seen:
                again = "twice in that group" if seen[id(parameter)] == index else \
                    f"also in group {seen[id(parameter)]}"
                fail(f"{where} holds {names[id(parameter)]}, which is {again}: each parameter belongs to one "
                     f"group, once (torch.optim refuses the same parameter in two groups).", RECIPE)
            seen[id(parameter)] = index


def _who(names, base, ids):
    """"the base's 0.weight (Conv2d) and 0.bias (Conv2d); the head's …" for the parameters `ids`."""
    parts = [("the base's", [names[i] for i in ids if i in base]),
             ("the head's", [names[i] for i in ids if i not in base])]
    return "; ".join(f"{whose} {listing(found, limit=6)}" for whose, found in parts if found)


def _describe_trainable(model, names, base, expected):
    """What differs in requires_grad, in words."""
    should_train = [id(p) for p, wanted in zip(model.parameters(), expected) if wanted and not p.requires_grad]
    should_not = [id(p) for p, wanted in zip(model.parameters(), expected) if not wanted and p.requires_grad]
    words = []
    if should_not:
        words.append("these parameters still have requires_grad=True but should be frozen: "
                     + _who(names, base, should_not))
    if should_train:
        words.append("these parameters have requires_grad=False but should train: " + _who(names, base, should_train))
    return "; ".join(words) + "."


def _group_words(groups, base):
    words = []
    for index, (members, lr) in enumerate(groups):
        count = len(members)
        in_base = len([position for position in members if position in base])
        parts = [f"{in_base} of the base's" if in_base else "", f"{count - in_base} of the head's"
                 if count - in_base else ""]
        holding = " and ".join(part for part in parts if part) or "no"
        words.append(f"group {index}: {holding} parameters at lr={number(lr)}")
    return "; ".join(words)


def _check_decision(context, call, model, pristine, scenario, lr, factor, names, base, outcome, expected):
    __tracebackhide__ = True
    if _same(outcome, expected):
        return
    explanation = _explanation(outcome, pristine, scenario.mode, lr, factor)
    (trainable, groups), (expected_trainable, expected_groups) = outcome, expected
    base_positions = frozenset(index for index, parameter in enumerate(model.parameters()) if id(parameter) in base)
    if trainable != expected_trainable:
        what = f"after {call}, " + _describe_trainable(model, names, base, expected_trainable)
    else:
        what = (f"{call} returned {len(groups)} group{'s' if len(groups) != 1 else ''} ("
                f"{_group_words(groups, base_positions)}), expected {len(expected_groups)} ("
                f"{_group_words(expected_groups, base_positions)}).")
    if explanation is not None:
        fail(f"{context}: {what} {explanation[0].upper()}{explanation[1:]}")
    fail(f"{context}: {what}", RECIPE)


# ---------------------------------------------------------------------- optimizer steps

def _sgd_by_hand(before, gradient, lr):
    return before - lr * gradient  # the first step: the momentum buffer starts at the gradient


def _adamw_by_hand(before, gradient, lr):
    # first step: m̂ = g, v̂ = g², so the step is lr · g / (|g| + eps), after the decoupled decay
    return before * (1 - lr * WEIGHT_DECAY) - lr * gradient / (gradient.abs() + EPS)


OPTIMIZERS = (
    ("torch.optim.SGD(groups, lr=1.0, momentum=0.9)",
     lambda groups: torch.optim.SGD(groups, lr=1.0, momentum=MOMENTUM), _sgd_by_hand),
    ("torch.optim.AdamW(groups, lr=1.0, weight_decay=0.01)",
     lambda groups: torch.optim.AdamW(groups, lr=1.0, betas=BETAS, eps=EPS, weight_decay=WEIGHT_DECAY),
     _adamw_by_hand),
)


def _check_steps(context, model, groups, names, inputs, targets):
    """One step of each optimizer from the answer's groups: frozen parameters bit for bit as
    before, the others moved by their group's lr."""
    __tracebackhide__ = True
    parameters = list(model.parameters())
    starting = [parameter.detach().clone() for parameter in parameters]
    rate = {id(parameter): float(group["lr"]) for group in groups for parameter in group["params"]}
    for words, build, by_hand in OPTIMIZERS:
        with torch.no_grad():
            for parameter, start in zip(parameters, starting):
                parameter.copy_(start)
                parameter.grad = None
        try:
            optimizer = build([{"params": list(group["params"]), "lr": group["lr"]} for group in groups])
            torch.nn.functional.cross_entropy(model(inputs), targets).backward()
            optimizer.step()
        except Exception as error:
            fail(f"{context}: {words} with the groups it returned raised {type(error).__name__}: {error}", RECIPE)
        for parameter, start in zip(parameters, starting):
            name = names[id(parameter)]
            if not parameter.requires_grad:
                if not bool((parameter.detach() == start).all()):
                    fail(f"{context}: one step of {words} changed {name}, which is frozen.")
                continue
            expected = by_hand(start, parameter.grad, rate[id(parameter)])
            if not isclose(parameter.detach().numpy(), expected.numpy(), rtol=1e-10, atol=1e-13).all():
                fail(f"{context}: after one step of {words}, {name} is not where a step with its group's "
                     f"lr={number(rate[id(parameter)])} takes it.")
    with torch.no_grad():
        for parameter, start in zip(parameters, starting):
            parameter.copy_(start)
            parameter.grad = None


def _check_values_kept(context, call, model, pristine, names):
    __tracebackhide__ = True
    for parameter, original in zip(model.parameters(), pristine.parameters()):
        if not bool((parameter.detach() == original.detach()).all()):
            fail(f"{context}: {call} changed the values of {names[id(parameter)]}: it only decides which "
                 f"parameters train and at which rate. (A model trained from scratch is built fresh by the "
                 f"caller.)")


def check_transfer_parameter_groups(transfer_parameter_groups, *, seed=0):
    """Run `transfer_parameter_groups(model, mode, lr, base_lr_factor=0.1)` on SCENARIOS (the
    three modes on float64 CNNs with BatchNorm, models frozen before the call) and check the
    requires_grad flags, the groups and their lrs, and one step of SGD and of AdamW built from
    them. `seed` draws the widths, lr and base_lr_factor."""
    __tracebackhide__ = True
    answer = Answer(TRANSFER_PARAMETER_GROUPS, transfer_parameter_groups, advice=_advice)
    for index, scenario in enumerate(SCENARIOS):
        rng = default_rng((int(seed), index))
        lr = float(LEARNING_RATES[int(rng.integers(len(LEARNING_RATES)))])
        factor = float(BASE_LR_FACTORS[int(rng.integers(len(BASE_LR_FACTORS)))]) if scenario.explicit_factor \
            else DEFAULT_BASE_LR_FACTOR
        model, words, inputs, targets = _problem(scenario, rng, int(seed) * len(SCENARIOS) + index)
        pristine = copy.deepcopy(model)
        names, base = _names(model)
        arguments = (model, scenario.mode, lr) + ((factor,) if scenario.explicit_factor else ())
        call = answer.words(*arguments)
        frozen_words = ", its base frozen before the call" if scenario.came_frozen else ""
        context = f"With {words}{frozen_words}"
        result = answer.run(call, *arguments)
        _check_form(context, call, result, names)
        expected = _decided_by(_book(scenario.mode), pristine, lr, factor)
        outcome = _outcome(model, result)
        _check_decision(context, call, model, pristine, scenario, lr, factor, names, base, outcome, expected)
        _check_values_kept(context, call, model, pristine, names)
        _check_steps(context, model, result, names, inputs, targets)


def _advice(error):
    if isinstance(error, AttributeError) or (isinstance(error, TypeError) and "subscriptable" in str(error)):
        return ("model is an nn.Sequential whose last module is the head: model[:-1] is the base (a "
                "Sequential itself), model[-1] the head; .parameters() of each gives their parameters.")
    return None
