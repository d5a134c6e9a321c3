import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler

from course_lib.data import load_mnist
from course_lib.data.preprocessing import flatten_and_scale, mean_and_std, train_validation_split
from course_lib.models import mlp
from course_lib.training import distributed
from course_lib.training import accumulated_step, load_checkpoint
from course_lib.training.distributed import (
    MODELS, data_parallel_gradients, distributed_iterations_per_epoch, main, samples_per_worker,
)

COURSE_ROOT = Path(__file__).resolve().parents[2]
SIZES = [0, 1, 2, 3, 5, 7, 10, 31, 32, 33, 63, 64, 65, 100, 257, 1000, 1001]


def torch_shards(n_samples, world_size, drop_last, epoch=0):
    """What torch's DistributedSampler gives each rank, as lists of indices."""
    shards = []
    for rank in range(world_size):
        sampler = DistributedSampler(range(n_samples), num_replicas=world_size, rank=rank, shuffle=True, seed=3,
                                     drop_last=drop_last)
        sampler.set_epoch(epoch)
        shards.append(list(sampler))
    return shards


@pytest.mark.parametrize("world_size", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("batch_size", [1, 4, 32])
def test_iterations_per_epoch_are_those_of_torchs_sampler_and_loader(world_size, batch_size):
    for n_samples in SIZES:
        for sampler_drop_last in (False, True):
            for loader_drop_last in (False, True):
                lengths = {len(DataLoader(range(n_samples), batch_size=batch_size, drop_last=loader_drop_last,
                                          sampler=DistributedSampler(range(n_samples), num_replicas=world_size,
                                                                     rank=rank, drop_last=sampler_drop_last)))
                           for rank in range(world_size)}
                assert lengths == {distributed_iterations_per_epoch(
                    n_samples, batch_size, world_size, sampler_drop_last=sampler_drop_last,
                    loader_drop_last=loader_drop_last)}, (n_samples, sampler_drop_last, loader_drop_last)


def test_padding_repeats_the_first_indices_and_drop_last_cuts_the_tail():
    padded = torch_shards(10, 4, drop_last=False)
    assert {len(shard) for shard in padded} == {samples_per_worker(10, 4)} == {3}
    everything = sorted(index for shard in padded for index in shard)
    assert sorted(set(everything)) == list(range(10))  # every sample is seen ...
    assert len(everything) - 10 == 2  # ... and 2 of them twice: 12 = 4 × 3 slots
    cut = torch_shards(10, 4, drop_last=True)
    assert {len(shard) for shard in cut} == {samples_per_worker(10, 4, drop_last=True)} == {2}
    seen = [index for shard in cut for index in shard]
    assert len(set(seen)) == len(seen) == 8  # disjoint; 2 samples sit this epoch out


def test_shards_are_disjoint_cover_the_dataset_and_are_reshuffled_by_set_epoch():
    n_samples, world_size = 1000, 4
    for epoch in (0, 1):
        shards = torch_shards(n_samples, world_size, drop_last=False, epoch=epoch)
        assert sorted(index for shard in shards for index in shard) == list(range(n_samples))
    first, second = torch_shards(n_samples, world_size, False, 0), torch_shards(n_samples, world_size, False, 1)
    for rank in range(world_size):
        assert first[rank] != second[rank]  # each rank's order changes ...
        assert set(first[rank]) != set(second[rank])  # ... and so does its share of the data
    assert torch_shards(n_samples, world_size, False, 0) == first  # the same epoch, the same order


def float64_model_and_batch(n_samples, seed=0):
    torch.manual_seed(seed)
    model = mlp([6, 5, 3], activation=torch.nn.Tanh).double()
    return model, torch.randn(n_samples, 6, dtype=torch.float64), torch.randint(0, 3, (n_samples,))


def gradients_of(model, loss_fn, inputs, targets):
    model.zero_grad()
    loss_fn(model(inputs), targets).backward()
    return [parameter.grad.clone() for parameter in model.parameters()]


def test_two_workers_with_batch_b_get_the_gradient_of_one_worker_with_batch_2b():
    model, inputs, targets = float64_model_and_batch(2 * 8)
    loss_fn = torch.nn.CrossEntropyLoss()
    expected = gradients_of(model, loss_fn, inputs, targets)
    per_worker = data_parallel_gradients(model, loss_fn, inputs, targets, world_size=2)
    assert len(per_worker) == 2
    for gradients in per_worker:
        for gradient, wanted in zip(gradients, expected, strict=True):
            torch.testing.assert_close(gradient, wanted, rtol=1e-12, atol=1e-14)
    # the workers' halves alone have other gradients: the all-reduce is what makes them equal
    assert not torch.allclose(gradients_of(model, loss_fn, inputs[:8], targets[:8])[0], expected[0])


def test_data_parallel_gradients_refuses_unequal_shares():
    model, inputs, targets = float64_model_and_batch(5)
    with pytest.raises(Exception, match="do not split into 2 equal shares"):
        data_parallel_gradients(model, torch.nn.CrossEntropyLoss(), inputs, targets)


class CountingSGD(torch.optim.SGD):
    steps = 0

    def step(self, closure=None):
        self.steps += 1
        return super().step(closure)


@pytest.mark.parametrize("sizes", [(4, 4, 4), (4, 4, 2), (10,)])
def test_accumulated_micro_batches_take_the_step_of_their_concatenation(sizes):
    model, inputs, targets = float64_model_and_batch(sum(sizes), seed=1)
    book = float64_model_and_batch(sum(sizes), seed=1)[0]
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = CountingSGD(model.parameters(), lr=0.3, momentum=0.9)
    for parameter in model.parameters():  # left over from an earlier step
        parameter.grad = torch.ones_like(parameter)
    micro_batches = list(zip(inputs.split(list(sizes)), targets.split(list(sizes))))
    loss = accumulated_step(model, loss_fn, micro_batches, optimizer)
    assert optimizer.steps == 1
    book_optimizer = torch.optim.SGD(book.parameters(), lr=0.3, momentum=0.9)
    book_loss = loss_fn(book(inputs), targets)
    book_loss.backward()
    book_optimizer.step()
    assert loss == pytest.approx(book_loss.item(), rel=1e-12)
    for parameter, wanted in zip(model.parameters(), book.parameters(), strict=True):
        torch.testing.assert_close(parameter, wanted, rtol=1e-12, atol=1e-14)


def test_the_script_trains_two_workers_under_torchrun(tmp_path):
    out = tmp_path / "run.json"
    environment = {**os.environ, "OMP_NUM_THREADS": "1",
                   "PYTHONPATH": os.pathsep.join([str(COURSE_ROOT), os.environ.get("PYTHONPATH", "")])}
    completed = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "course_lib.training.distributed", "--data-limit", "301", "--batch-size", "32", "--epochs", "1",
         "--out", str(out), "--checkpoint", str(tmp_path / "model.pt")],
        cwd=COURSE_ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-3000:]
    summary = json.loads(out.read_text())
    assert summary["world_size"] == 2 and summary["backend"] == "gloo"
    assert summary["global_batch_size"] == 64 and summary["samples_per_worker"] == 151  # 301 padded to 302
    (epoch,) = summary["epochs"]
    assert epoch["iterations"] == summary["iterations_per_epoch"] == 5  # ⌈151 / 32⌉
    assert 0 < epoch["train_loss"] < 10 and 0 <= epoch["val_accuracy"] <= 1
    assert completed.stdout.count("epoch 1:") == 1  # only rank 0 speaks
    checkpoint = load_checkpoint(tmp_path / "model.pt")
    assert checkpoint["epoch"] == 1 and checkpoint["global_step"] == 5


def test_without_torchrun_the_script_trains_as_one_worker(tmp_path, monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    summary = main(["--data-limit", "200", "--batch-size", "32", "--drop-last", "--out", str(tmp_path / "run.json")])
    assert json.loads((tmp_path / "run.json").read_text()) == summary
    assert (summary["world_size"], summary["backend"], summary["global_batch_size"]) == (1, "none", 32)
    assert summary["epochs"][0]["iterations"] == summary["iterations_per_epoch"] == 6  # ⌊200 / 32⌋


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_the_script_offers_classifies_mnist_images(name):
    assert MODELS[name]()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_the_script_validates_on_the_notebooks_validation_split_and_never_reads_the_test_set(monkeypatch):
    images, labels = load_mnist("train")
    train_images, _, val_images, val_labels = train_validation_split(images, labels, 10_000, np.random.default_rng(0))
    read = []
    monkeypatch.setattr(distributed, "load_mnist", lambda split: read.append(split) or load_mnist(split))
    train_inputs, train_targets, val_inputs, val_targets = distributed.mnist_tensors(50)
    assert read == ["train"]
    assert train_inputs.shape == val_inputs.shape == (50, 1, 28, 28) and torch.equal(val_targets, torch.from_numpy(val_labels[:50]))
    mean, std = mean_and_std(flatten_and_scale(train_images[:50]))
    expected = (torch.from_numpy(flatten_and_scale(val_images[:50])) - mean) / std
    torch.testing.assert_close(val_inputs.reshape(50, -1), expected)
