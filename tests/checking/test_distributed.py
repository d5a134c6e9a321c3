import math

import pytest
from torch.utils.data import DataLoader, DistributedSampler

from course_lib.checking.distributed import (
    MISTAKES, VISIBLE_CASES, check_distributed_iterations_per_epoch, expected_iterations,
)
from course_lib.checking.failure import CheckFailure, DelegationFailure
from course_lib.data.batching import iterations_per_epoch
from course_lib.training import distributed
from tests.checking.failures import failure_message, named
from tests.strategies import tampered

NAME = "distributed_iterations_per_epoch"


def distributed_iterations_per_epoch(n_samples, batch_size, world_size, *, sampler_drop_last=False,
                                     loader_drop_last=False):
    """A right answer, written as a student would, on 01's count."""
    if sampler_drop_last:
        per_worker = n_samples // world_size
    else:
        per_worker = math.ceil(n_samples / world_size)
    return iterations_per_epoch(per_worker, batch_size, loader_drop_last)


def test_the_expected_counts_are_torchs():
    for world_size in (1, 2, 3, 5, 8):
        for n_samples in (0, 1, 4, 7, 33, 100, 129, 897):
            for batch_size in (1, 3, 32):
                for sampler_drop_last in (False, True):
                    for loader_drop_last in (False, True):
                        sampler = DistributedSampler(range(n_samples), num_replicas=world_size, rank=world_size - 1,
                                                     drop_last=sampler_drop_last)
                        loader = DataLoader(range(n_samples), batch_size=batch_size, sampler=sampler,
                                            drop_last=loader_drop_last)
                        assert len(loader) == expected_iterations(
                            n_samples, batch_size, world_size, sampler_drop_last=sampler_drop_last,
                            loader_drop_last=loader_drop_last)


def test_a_right_answer_passes_with_any_seed_and_for_given_sizes():
    for seed in (0, 1, 2):
        check_distributed_iterations_per_epoch(distributed_iterations_per_epoch, seed=seed)
    check_distributed_iterations_per_epoch(distributed_iterations_per_epoch, 0, 8, 4)
    check_distributed_iterations_per_epoch(distributed_iterations_per_epoch, 1_000_003, 256, 16)


@pytest.mark.parametrize("wrong", MISTAKES, ids=[wrong.__name__ for wrong in MISTAKES])
def test_each_mistake_is_named_by_its_own_explanation(wrong):
    message = failure_message(check_distributed_iterations_per_epoch, named(NAME, wrong))
    assert wrong.explanation in message
    assert "Here, DistributedSampler" in message  # and how the right count comes about
    for other in MISTAKES:
        if other is not wrong:
            assert other.explanation not in message


def test_messages_name_the_call_and_the_numbers():
    assert failure_message(check_distributed_iterations_per_epoch, named(NAME, MISTAKES[0])) == (
        "distributed_iterations_per_epoch(897, 32, 4) returned 7, expected 8: each worker's share is rounded "
        "down, as if DistributedSampler dropped the tail: by default it pads the dataset up to a multiple of "
        "world_size by repeating its first samples, so every worker gets ⌈n_samples / world_size⌉. Here, "
        "DistributedSampler pads the 897 samples to 900 by repeating 3 of them, 225 for each of the 4 workers; "
        "each worker's 225 make 7 full batches of 32 and a partial one of 1: 8 steps per epoch.")


def test_an_unrecognised_answer_gets_the_derivation_and_no_cause():
    def off_for_three_workers(n_samples, batch_size, world_size, *, sampler_drop_last=False,
                              loader_drop_last=False):
        right = distributed_iterations_per_epoch(n_samples, batch_size, world_size, sampler_drop_last=sampler_drop_last,
                                                 loader_drop_last=loader_drop_last)
        return right + 1 if world_size == 3 else right
    message = failure_message(check_distributed_iterations_per_epoch, named(NAME, off_for_three_workers))
    assert message == (
        "distributed_iterations_per_epoch(10, 4, 3) returned 2, expected 1 (one too many).\nHint: "
        "DistributedSampler pads the 10 samples to 12 by repeating 2 of them, 4 for each of the 3 workers; each "
        "worker's 4 make 1 batch of 4: 1 step per epoch.")
    assert not any(wrong.explanation in message for wrong in MISTAKES)


def test_a_mistake_is_named_only_where_it_reproduces_every_count():
    def pads_only_without_loader_drop_last(n_samples, batch_size, world_size, *, sampler_drop_last=False,
                                           loader_drop_last=False):
        if loader_drop_last:
            return distributed_iterations_per_epoch(n_samples, batch_size, world_size,
                                                    sampler_drop_last=sampler_drop_last, loader_drop_last=True)
        return MISTAKES[0](n_samples, batch_size, world_size, sampler_drop_last=sampler_drop_last)
    message = failure_message(check_distributed_iterations_per_epoch, named(NAME, pads_only_without_loader_drop_last))
    assert message.startswith("distributed_iterations_per_epoch(897, 32, 4) returned 7, expected 8 (one too few).")
    assert MISTAKES[0].explanation not in message


def test_floats_and_hidden_sizes_fail():
    def as_float(n_samples, batch_size, world_size, *, sampler_drop_last=False, loader_drop_last=False):
        return float(distributed_iterations_per_epoch(n_samples, batch_size, world_size,
                                                      sampler_drop_last=sampler_drop_last,
                                                      loader_drop_last=loader_drop_last))
    assert "distributed_iterations_per_epoch(60000, 64, 2) returned 469.0, a float, but the int 469 is expected" in \
        failure_message(check_distributed_iterations_per_epoch, named(NAME, as_float))

    table = {(n, b, w): distributed_iterations_per_epoch(n, b, w) for n, b, w in VISIBLE_CASES}

    def memorises_the_visible_cases(n_samples, batch_size, world_size, *, sampler_drop_last=False,
                                    loader_drop_last=False):
        if (sampler_drop_last or loader_drop_last) and (n_samples, batch_size, world_size) in table:
            return distributed_iterations_per_epoch(n_samples, batch_size, world_size,
                                                    sampler_drop_last=sampler_drop_last,
                                                    loader_drop_last=loader_drop_last)
        return table.get((n_samples, batch_size, world_size), 0)
    with pytest.raises(CheckFailure):
        check_distributed_iterations_per_epoch(named(NAME, memorises_the_visible_cases), seed=7)


def test_an_answer_that_delegates_fails():
    def constructs_the_sampler(n_samples, batch_size, world_size, *, sampler_drop_last=False, loader_drop_last=False):
        sampler = DistributedSampler(range(n_samples), num_replicas=world_size, rank=0, drop_last=sampler_drop_last)
        return iterations_per_epoch(len(sampler), batch_size, loader_drop_last)

    def loader_length(n_samples, batch_size, world_size, *, sampler_drop_last=False, loader_drop_last=False):
        return len(DataLoader(range(n_samples), batch_size=batch_size, drop_last=loader_drop_last,
                              sampler=DistributedSampler(range(n_samples), num_replicas=world_size, rank=0,
                                                         drop_last=sampler_drop_last)))

    for delegating in (constructs_the_sampler, loader_length):
        with pytest.raises(DelegationFailure, match="called torch.utils.data.DistributedSampler"):
            check_distributed_iterations_per_epoch(named(NAME, delegating))
    with pytest.raises(DelegationFailure, match="called course_lib.training.distributed.distributed_iterations_per"):
        check_distributed_iterations_per_epoch(distributed.distributed_iterations_per_epoch)


def test_a_blank_answer_gets_the_advice():
    def blank(n_samples, batch_size, world_size, *, sampler_drop_last=False, loader_drop_last=False):
        raise NotImplementedError()
    assert "distributed_iterations_per_epoch(60000, 64, 2) raised NotImplementedError: replace" in \
        failure_message(check_distributed_iterations_per_epoch, named(NAME, blank))


def test_the_check_cannot_be_fooled_by_patched_numpy_or_builtins():
    with tampered():
        check_distributed_iterations_per_epoch(distributed_iterations_per_epoch)
        with pytest.raises(CheckFailure) as caught:
            check_distributed_iterations_per_epoch(named(NAME, MISTAKES[0]))
    assert MISTAKES[0].explanation in str(caught.value)
