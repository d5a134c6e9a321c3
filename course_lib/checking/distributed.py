"""The check of data-parallel step counting (assignment 06): how many optimizer steps an epoch
takes on every worker when a DataLoader(batch_size, drop_last=loader_drop_last) draws from a
DistributedSampler(num_replicas=world_size, drop_last=sampler_drop_last).

`check_distributed_iterations_per_epoch(distributed_iterations_per_epoch)` calls the answer
with both drop_lasts left out and with each and both set, for MNIST on 2 workers, sizes where
the padding shows, fewer samples than workers, and a few sizes drawn with `seed`. The
expected counts are the arithmetic below, which tests/checking/test_distributed.py holds to
torch's own sampler and loader over many sizes. The mistakes are wrong functions with the
student's signature, each next to the sentence that tells it; one is named only when it
reproduces every count the answer returned, and otherwise the message says how the right
count comes about.

What an answer must not run (see `harness`): its course_lib reference, and torch's
DistributedSampler (constructing one, or len() of one, runs its Python methods, which the
watch recognises). 01's `iterations_per_epoch` is a building block it may use.
"""
from builtins import all, bool, divmod, float, int, isinstance, list, range, zip

from torch.utils.data import DistributedSampler

from course_lib.training import distributed as _distributed

from ._trusted import default_rng, np
from .failure import mistake
from .harness import Answer, exercise
from .values import check_integer

DISTRIBUTED_ITERATIONS_PER_EPOCH = exercise(_distributed.distributed_iterations_per_epoch,
                                            forbidden=(DistributedSampler,))

# (n_samples, batch_size, world_size): MNIST on 2 workers; 897 on 4, where padding to 900
# gives a shard of 225 (one sample past 7 batches of 32) and cutting to 896 one of 224
# (exactly 7); 10 on 3 in batches of 4, where a shard of 3 is no full batch; 3 on 4 workers
VISIBLE_CASES = ((60000, 64, 2), (897, 32, 4), (10, 4, 3), (3, 2, 4))
DRAWN_CASES = 3  # more cases, drawn with the check's seed


def _up(numerator, denominator):
    return -(-numerator // denominator)


def _shard(n_samples, world_size, sampler_drop_last):
    return n_samples // world_size if sampler_drop_last else _up(n_samples, world_size)


def _steps(shard, batch_size, loader_drop_last):
    return shard // batch_size if loader_drop_last else _up(shard, batch_size)


def expected_iterations(n_samples, batch_size, world_size, *, sampler_drop_last=False, loader_drop_last=False):
    return _steps(_shard(n_samples, world_size, sampler_drop_last), batch_size, loader_drop_last)


# ---------------------------------------------------------------------------- mistakes

@mistake("each worker's share is rounded down, as if DistributedSampler dropped the tail: by "
         "default it pads the dataset up to a multiple of world_size by repeating its first "
         "samples, so every worker gets ⌈n_samples / world_size⌉.")
def forgets_the_padding(n_samples, batch_size, world_size, *, sampler_drop_last=False, loader_drop_last=False):
    return _steps(n_samples // world_size, batch_size, loader_drop_last)


@mistake("sampler_drop_last is ignored: with it DistributedSampler cuts the dataset to a multiple "
         "of world_size instead of padding it, so every worker gets ⌊n_samples / world_size⌋.")
def ignores_sampler_drop_last(n_samples, batch_size, world_size, *, sampler_drop_last=False,
                              loader_drop_last=False):
    return _steps(_up(n_samples, world_size), batch_size, loader_drop_last)


@mistake("loader_drop_last is ignored: with it the DataLoader skips each worker's last, partial "
         "batch, so round the shard's batches down.")
def ignores_loader_drop_last(n_samples, batch_size, world_size, *, sampler_drop_last=False,
                             loader_drop_last=False):
    return _steps(_shard(n_samples, world_size, sampler_drop_last), batch_size, False)


@mistake("the two drop_lasts are swapped: sampler_drop_last decides each worker's share (cut "
         "instead of padded), loader_drop_last whether the share's partial batch is a step.")
def swaps_the_drop_lasts(n_samples, batch_size, world_size, *, sampler_drop_last=False, loader_drop_last=False):
    return _steps(_shard(n_samples, world_size, loader_drop_last), batch_size, sampler_drop_last)


@mistake("the shard is divided by the global batch, batch_size × world_size: batch_size is per "
         "worker, and each worker cuts its own share into batches of batch_size.")
def divides_by_the_global_batch(n_samples, batch_size, world_size, *, sampler_drop_last=False,
                                loader_drop_last=False):
    return _steps(_shard(n_samples, world_size, sampler_drop_last), batch_size * world_size, loader_drop_last)


@mistake("that counts global batches of the whole dataset: the drop_lasts act on the workers' "
         "shares — the sampler first pads or cuts the dataset into equal shares, then each "
         "worker's DataLoader keeps or skips its own partial batch.")
def counts_global_batches(n_samples, batch_size, world_size, *, sampler_drop_last=False, loader_drop_last=False):
    return _steps(n_samples, batch_size * world_size, loader_drop_last)


@mistake("that is the count of one process going through the whole dataset: each of the "
         "world_size workers goes through only its share, about n_samples / world_size.")
def forgets_the_shards(n_samples, batch_size, world_size, *, sampler_drop_last=False, loader_drop_last=False):
    return _steps(n_samples, batch_size, loader_drop_last)


MISTAKES = (forgets_the_padding, ignores_sampler_drop_last, ignores_loader_drop_last, swaps_the_drop_lasts,
            divides_by_the_global_batch, counts_global_batches, forgets_the_shards)


# ---------------------------------------------------------------------------- the check

def _counted(count, thing):
    """'1 batch', '7 batches', '0 steps'."""
    return f"{count} {thing}" if count == 1 else f"{count} {thing}{'es' if thing.endswith('ch') else 's'}"


def _derivation(n_samples, batch_size, world_size, sampler_drop_last, loader_drop_last):
    """How the right count comes about, in words."""
    shard = _shard(n_samples, world_size, sampler_drop_last)
    share = f"{shard} for each of the {world_size} workers"
    if n_samples % world_size == 0:
        sampler = f"DistributedSampler splits the {n_samples} samples evenly, {share}"
    elif sampler_drop_last:
        sampler = f"DistributedSampler(drop_last=True) cuts the {n_samples} samples to {shard * world_size}, {share}"
    else:
        sampler = (f"DistributedSampler pads the {n_samples} samples to {shard * world_size} by repeating "
                   f"{shard * world_size - n_samples} of them, {share}")
    full, leftover = divmod(shard, batch_size)
    if leftover == 0:
        batches = f"{_counted(full, 'batch')} of {batch_size}"
    elif loader_drop_last:
        batches = f"{full} full batches of {batch_size}; the DataLoader (drop_last=True) skips the last {leftover}"
    else:
        batches = f"{full} full batches of {batch_size} and a partial one of {leftover}"
    steps = _steps(shard, batch_size, loader_drop_last)
    return f"{sampler}; each worker's {shard} make {batches}: {_counted(steps, 'step')} per epoch."


def _cases(n_samples, batch_size, world_size, seed):
    if n_samples is not None:
        return [(int(n_samples), int(batch_size), int(world_size))]
    rng = default_rng(int(seed))
    drawn = [(int(rng.integers(0, 5000)), int(rng.integers(1, 65)), int(rng.integers(2, 9)))
             for _ in range(DRAWN_CASES)]
    return list(VISIBLE_CASES) + drawn


def _calls(cases):
    """(arguments, options) for every case with the drop_lasts left out, each set, and both."""
    return [(case, options) for case in cases
            for options in ({}, {"sampler_drop_last": True}, {"loader_drop_last": True},
                            {"sampler_drop_last": True, "loader_drop_last": True})]


def _is_whole(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _reproducing_mistake(calls, results, wrong_call):
    """The first mistake that gives every result the answer gave and is wrong where the
    answer first is: (its count there, its explanation), or None."""
    arguments, options = wrong_call
    for wrong in MISTAKES:
        if wrong(*arguments, **options) == expected_iterations(*arguments, **options):
            continue
        reproduced = True
        for (case, case_options), result in zip(calls, results):
            if wrong(*case, **case_options) != result:
                reproduced = False
        if reproduced:
            return wrong(*arguments, **options), wrong.explanation
    return None


def check_distributed_iterations_per_epoch(distributed_iterations_per_epoch, n_samples=None, batch_size=None,
                                           world_size=None, *, seed=0):
    """Run `distributed_iterations_per_epoch(n_samples, batch_size, world_size)` with
    sampler_drop_last and loader_drop_last left out, each set and both set: for MNIST on 2
    workers in batches of 64, 897 samples on 4 workers in batches of 32, 10 on 3 in batches
    of 4, 3 on 4 in batches of 2, and three cases drawn with `seed` — or, given n_samples,
    batch_size and world_size, for those only."""
    __tracebackhide__ = True
    answer = Answer(DISTRIBUTED_ITERATIONS_PER_EPOCH, distributed_iterations_per_epoch)
    calls = _calls(_cases(n_samples, batch_size, world_size, seed))
    results = [answer(*arguments, **options) for arguments, options in calls]
    for (arguments, options), result in zip(calls, results):
        expected = expected_iterations(*arguments, **options)
        if _is_whole(result) and result == expected:
            continue
        call = answer.words(*arguments, **options)
        how = _derivation(*arguments, options.get("sampler_drop_last", False), options.get("loader_drop_last", False))
        numbers = all(_is_number(returned) for returned in results)
        found = _reproducing_mistake(calls, results, (arguments, options)) if numbers else None
        known = None if found is None else {found[0]: f"{found[1]} Here, {how}"}
        check_integer(call, result, expected, known_mistakes=known, hint=None if found else how)
