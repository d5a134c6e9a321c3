import cProfile
import functools
import importlib
import sys
import threading
import types

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import BatchSampler, DataLoader

from course_lib.checking.watch import Watch, Watchlist, public_name, trusted
from course_lib.data import iterations_per_epoch
from course_lib.scratch.functional import log_softmax, softmax

SOFTMAX_WATCHLIST = Watchlist((softmax, log_softmax, torch.softmax, torch.Tensor.softmax, F.softmax,
                               torch.special.softmax))
X = np.random.default_rng(0).standard_normal((3, 4))
CAPTURED = softmax  # a reference taken long before the watch starts


def hit_of(action, watchlist=SOFTMAX_WATCHLIST):
    with Watch(watchlist) as watch:
        action()
    return watch.hit


def own_softmax(input, dim):
    exponentials = np.exp(input - input.max(axis=dim, keepdims=True))
    return exponentials / exponentials.sum(axis=dim, keepdims=True)


def wrapper(input, dim):
    return softmax(input, dim)


def logged(function):
    @functools.wraps(function)
    def logging_wrapper(*args, **kwargs):
        return function(*args, **kwargs)
    return logging_wrapper


@logged
def doubled(values):
    return 2 * values


@logged
def tripled(values):
    return 3 * values


def as_tensor(x):
    return torch.from_numpy(x)


ROUTES = {
    "direct": (lambda: softmax(X, 1), "course_lib.scratch.softmax"),
    "alias": (lambda: (lambda f: f(X, 1))(softmax), "course_lib.scratch.softmax"),
    "wrapper": (lambda: wrapper(X, 1), "course_lib.scratch.softmax"),
    "partial": (lambda: functools.partial(softmax, dim=1)(X), "course_lib.scratch.softmax"),
    "importlib": (lambda: importlib.import_module("course_lib.scratch.functional").softmax(X, 1),
                  "course_lib.scratch.softmax"),
    "function copy": (lambda: types.FunctionType(softmax.__code__, softmax.__globals__)(X, 1),
                      "course_lib.scratch.softmax"),
    "renamed code copy": (
        lambda: types.FunctionType(softmax.__code__.replace(co_name="mine", co_filename="mine.py"),
                                   softmax.__globals__)(X, 1), "course_lib.scratch.softmax"),
    "captured before": (lambda: CAPTURED(X, 1), "course_lib.scratch.softmax"),
    "another forbidden helper": (lambda: np.exp(log_softmax(X, 1)), "course_lib.scratch.log_softmax"),
    "torch function": (lambda: torch.softmax(as_tensor(X), 1), "torch.softmax"),
    "tensor method": (lambda: as_tensor(X).softmax(1), "torch.Tensor.softmax"),
    "unbound tensor method": (lambda: torch.Tensor.softmax(as_tensor(X), 1), "torch.Tensor.softmax"),
    "parameter method": (lambda: torch.nn.Parameter(as_tensor(X)).softmax(1), "torch.Tensor.softmax"),
    "torch.nn.functional": (lambda: F.softmax(as_tensor(X), 1), "torch.nn.functional.softmax"),
    "a module using it": (lambda: torch.nn.Softmax(1)(as_tensor(X)), "torch.nn.functional.softmax"),
    "torch.special": (lambda: torch.special.softmax(as_tensor(X), 1), "torch.special.softmax"),
}


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_to_a_forbidden_function_is_noticed(route):
    action, name = ROUTES[route]
    assert hit_of(action) == name


def test_ordinary_numpy_and_torch_calls_and_building_blocks_are_not_noticed():
    assert hit_of(lambda: own_softmax(X, 1)) is None
    assert hit_of(lambda: torch.exp(as_tensor(X)).sum(1).log()) is None
    assert hit_of(lambda: as_tensor(X).log_softmax(1)) is None  # not on this list


def test_the_first_forbidden_function_to_run_is_the_one_named():
    def both():
        F.softmax(as_tensor(X), 1)
        softmax(X, 1)
    assert hit_of(both) == "torch.nn.functional.softmax"


def test_a_class_is_watched_through_its_methods():
    watchlist = Watchlist((BatchSampler,))
    assert hit_of(lambda: len(DataLoader(range(10), batch_size=3)), watchlist) == \
        "torch.utils.data.BatchSampler"
    assert hit_of(lambda: iterations_per_epoch(10, 3), watchlist) is None


def test_a_decorated_function_is_watched_through_the_function_it_wraps():
    # every function the decorator wraps runs the same wrapper code: that is not what counts
    watchlist = Watchlist((("doubled", doubled),))
    assert hit_of(lambda: doubled(X), watchlist) == "doubled"
    assert hit_of(lambda: tripled(X), watchlist) is None


def test_functions_started_in_a_thread_during_the_watch_are_noticed():
    def in_a_thread():
        thread = threading.Thread(target=softmax, args=(X, 1))
        thread.start()
        thread.join()
    assert hit_of(in_a_thread) == "course_lib.scratch.softmax"


def test_the_previous_profiler_is_restored_and_a_replaced_one_noticed():
    calls = []

    def outer_profiler(frame, event, arg):
        calls.append(event)

    sys.setprofile(outer_profiler)
    try:
        with Watch(SOFTMAX_WATCHLIST) as watch:
            own_softmax(X, 1)
        assert sys.getprofile() is outer_profiler and not watch.tampered
        with Watch(SOFTMAX_WATCHLIST) as watch:
            sys.setprofile(None)
            softmax(X, 1)
        assert sys.getprofile() is outer_profiler
    finally:
        sys.setprofile(None)
    assert watch.tampered and watch.hit is None
    with Watch(SOFTMAX_WATCHLIST) as watch:
        previous = sys.getprofile()
        sys.setprofile(previous)  # switched off and on again: counts as well
    assert watch.tampered


def test_a_c_profiler_such_as_cprofile_is_enabled_again_afterwards():
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        with Watch(SOFTMAX_WATCHLIST) as watch:
            softmax(X, 1)
        trusted(own_softmax)(X, 1)
        assert sys.getprofile() is profiler
    finally:
        profiler.disable()
    assert watch.hit == "course_lib.scratch.softmax" and not watch.tampered


def test_a_trusted_callback_runs_unwatched_without_counting_as_tampering():
    reference_softmax = trusted(softmax)
    with Watch(SOFTMAX_WATCHLIST) as watch:
        reference_softmax(X, 1)
        own_softmax(X, 1)
    assert watch.hit is None and not watch.tampered
    assert reference_softmax.__name__ == "softmax"


def test_public_names_are_the_shortest_import_paths():
    assert public_name(softmax) == "course_lib.scratch.softmax"
    assert public_name(torch.Tensor.softmax) == "torch.Tensor.softmax"
    assert public_name(torch.special.softmax) == "torch.special.softmax"
    assert public_name(F.one_hot) == "torch.nn.functional.one_hot"
    assert public_name(torch.Tensor.backward) == "torch.Tensor.backward"
    assert public_name(torch._C._nn.cross_entropy_loss) == "torch._C._nn.cross_entropy_loss"
    assert Watchlist((("my name", softmax),)).names == ("my name",)


def test_only_functions_classes_and_c_functions_can_be_watched():
    with pytest.raises(TypeError):
        Watchlist((np.exp,))  # a ufunc
