"""Data-parallel training with torch.distributed: one process per worker, each holding a copy
of the model and training on its own shard of every epoch (`DistributedSampler`), the
gradients averaged across workers during every backward (`DistributedDataParallel`), so all
copies take the same step. A step sees batch_size samples per worker, batch_size ×
world_size in all: the global batch.

On one machine, two workers on the CPU (gloo):

    torchrun --nproc_per_node=2 -m course_lib.training.distributed --epochs 1 --out run.json

On a cluster the same script runs unchanged, one torchrun per machine, which meet at a
rendezvous endpoint (nccl between GPUs when CUDA is there):

    torchrun --nnodes=4 --nproc_per_node=8 --rdzv-backend=c10d --rdzv-endpoint=HOST:29500 \\
        --rdzv-id=JOB -m course_lib.training.distributed ...

torchrun tells each worker who it is (RANK, LOCAL_RANK, WORLD_SIZE) and where to meet
(MASTER_ADDR, MASTER_PORT) through environment variables; nothing here knows how many
machines there are. Without torchrun the script trains as a single worker. Only rank 0
prints, evaluates, writes the JSON summary and the checkpoint.
"""
import argparse
import json
import math
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from ..data import load_mnist
from ..data.batching import iterations_per_epoch
from ..data.preprocessing import flatten_and_scale, mean_and_std, standardize, train_validation_split
from ..errors import CourseError
from ..models import fast_cnn, keras_cnn, mlp, pytorch_examples_cnn
from .checkpoint import save_checkpoint
from .fit import TrainingRun
from .history import History
from .loop import evaluate, train_step

# Models by name, each taking images [N, 1, 28, 28]. CrossEntropyLoss also suits the
# examples CNN's log-probabilities: log_softmax leaves log-probabilities unchanged.
MODELS = {
    "mlp": lambda: nn.Sequential(nn.Flatten(), mlp([784, 128, 10])),
    "fast_cnn": fast_cnn,
    "keras_cnn": keras_cnn,
    "pytorch_examples_cnn": pytorch_examples_cnn,
}


# ------------------------------------------------------------------------- counting

def samples_per_worker(n_samples, world_size, drop_last=False):
    """How many indices DistributedSampler(drop_last=...) gives each of `world_size` workers:
    every worker gets the same number, so that all take the same number of steps (each step
    waits for all). By default the dataset is padded up to a multiple of world_size by
    repeating its first indices, ⌈n / world_size⌉ each; with drop_last the tail is dropped
    instead, ⌊n / world_size⌋ each."""
    if drop_last:
        return n_samples // world_size
    return math.ceil(n_samples / world_size)


def distributed_iterations_per_epoch(n_samples, batch_size, world_size, *, sampler_drop_last=False,
                                     loader_drop_last=False):
    """Optimizer steps per epoch, on every worker, of a DataLoader(batch_size=batch_size,
    drop_last=loader_drop_last) over DistributedSampler(num_replicas=world_size,
    drop_last=sampler_drop_last): the sampler's drop_last decides the shard (padded or cut to
    split evenly), the loader's whether a shard's last, partial batch is a step."""
    shard = samples_per_worker(n_samples, world_size, sampler_drop_last)
    return iterations_per_epoch(shard, batch_size, loader_drop_last)


# ------------------------------------------------------------------------- workers

@dataclass(frozen=True)
class Worker:
    """Who this process is among the workers, and where it computes."""
    rank: int  # 0 .. world_size - 1, over all machines
    local_rank: int  # on this machine: which GPU it takes
    world_size: int
    device: torch.device
    backend: str  # "gloo", "nccl", or "none" for a single worker without torchrun

    @property
    def is_main(self):
        return self.rank == 0


def start_worker():
    """Join the process group torchrun's environment describes; a single worker without it."""
    if "WORLD_SIZE" not in os.environ:
        return Worker(0, 0, 1, torch.device("cpu"), "none")
    local_rank = int(os.environ["LOCAL_RANK"])
    if torch.cuda.is_available():
        backend, device = "nccl", torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        backend, device = "gloo", torch.device("cpu")
    dist.init_process_group(backend)  # rendezvous through MASTER_ADDR / MASTER_PORT
    return Worker(dist.get_rank(), local_rank, dist.get_world_size(), device, backend)


def stop_worker():
    """Leave the process group, if there is one."""
    if dist.is_initialized():
        dist.destroy_process_group()


def data_parallel(model, worker):
    """`model` on the worker's device, wrapped in DistributedDataParallel when there are
    workers to average gradients with (which also gives every copy rank 0's weights)."""
    model = model.to(worker.device)
    if worker.backend == "none":
        return model
    device_ids = [worker.local_rank] if worker.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def sharded_loader(dataset, batch_size, worker, *, seed, sampler_drop_last=False, loader_drop_last=False):
    """A DataLoader over this worker's shard of `dataset`, shuffled anew each epoch once
    `loader.sampler.set_epoch(epoch)` is called (the order is drawn from seed + epoch, the
    same on every worker, so the shards stay disjoint)."""
    sampler = DistributedSampler(dataset, num_replicas=worker.world_size, rank=worker.rank, shuffle=True,
                                 seed=seed, drop_last=sampler_drop_last)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=loader_drop_last)


def summed_over_workers(values, worker):
    """The list of numbers `values`, each summed over all workers."""
    totals = torch.tensor(values, dtype=torch.float64, device=worker.device)
    if worker.backend != "none":
        dist.all_reduce(totals, op=dist.ReduceOp.SUM)
    return totals.tolist()


# ------------------------------------------------------------------------- one step, checked

def _gradient_worker(rank, world_size, model, loss_fn, inputs, targets, folder):
    torch.set_num_threads(1)  # the workers share the machine's cores
    # the workers meet through a file, not a TCP port picked in advance, which another
    # process on the machine could take between the pick and the bind
    dist.init_process_group("gloo", init_method=f"file://{Path(folder) / 'rendezvous'}", rank=rank,
                            world_size=world_size)
    try:
        replica = DistributedDataParallel(model)
        replica.zero_grad()  # the copy keeps any .grad the caller's model had
        shard = slice(rank * len(inputs) // world_size, (rank + 1) * len(inputs) // world_size)
        loss_fn(replica(inputs[shard]), targets[shard]).backward()  # all-reduces the gradients
        torch.save([parameter.grad for parameter in replica.module.parameters()], Path(folder) / f"{rank}.pt")
    finally:
        dist.destroy_process_group()


def data_parallel_gradients(model, loss_fn, inputs, targets, world_size=2):
    """The gradients each of `world_size` worker processes (gloo, on this machine) holds
    after one DistributedDataParallel backward of `loss_fn` on its equal, contiguous share
    of the batch: a list per worker, one tensor per parameter of `model`. For a mean-reduced
    loss they equal the gradient of the whole batch in one process."""
    if len(inputs) % world_size:
        raise CourseError(f"{len(inputs)} samples do not split into {world_size} equal shares; the mean of "
                          "the workers' mean gradients is the whole batch's only for equal shares (which is "
                          "why DistributedSampler pads)")
    # spawned, not forked: a child forked from a process whose OpenMP threads have run (any
    # earlier torch operation, e.g. in a notebook kernel) can hang in the OpenMP runtime
    with tempfile.TemporaryDirectory() as folder:
        torch.multiprocessing.start_processes(
            _gradient_worker, nprocs=world_size, start_method="spawn",
            args=(world_size, model, loss_fn, inputs, targets, folder))
        return [torch.load(Path(folder) / f"{rank}.pt") for rank in range(world_size)]


# ------------------------------------------------------------------------- the script

VALIDATION_SIZE = 10_000  # the validation split of assignments 02–06: train_validation_split(..., rng seed 0)


def mnist_tensors(limit):
    """MNIST's training images split as the notebooks split them, 50 000 for training and
    10 000 for validation (the test set is left for the one final measurement): the first
    `limit` of each (all with None) as float32 [N, 1, 28, 28] standardised with the training
    images' mean and std, and their labels — (train_inputs, train_targets, val_inputs,
    val_targets)."""
    images, labels = load_mnist("train")
    train_images, train_labels, val_images, val_labels = train_validation_split(
        images, labels, VALIDATION_SIZE, np.random.default_rng(0))
    train_flat, val_flat = flatten_and_scale(train_images[:limit]), flatten_and_scale(val_images[:limit])
    mean_std = mean_and_std(train_flat)
    as_inputs = lambda flat: torch.from_numpy(standardize(flat, *mean_std)).reshape(-1, 1, 28, 28)  # noqa: E731
    return (as_inputs(train_flat), torch.from_numpy(train_labels[:limit]),
            as_inputs(val_flat), torch.from_numpy(val_labels[:limit]))


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.training.distributed",
        description="Data-parallel training on MNIST; start it with torchrun (one process per worker).")
    parser.add_argument("--model", choices=sorted(MODELS), default="mlp")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64, help="per worker; the global batch is this × world size")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-limit", type=int, default=None,
                        help="train on the first N images of the training split, validate on the first N of "
                             "the validation split")
    parser.add_argument("--sampler-drop-last", action="store_true",
                        help="DistributedSampler cuts the dataset to a multiple of the world size instead of padding")
    parser.add_argument("--drop-last", action="store_true", help="the DataLoader drops each shard's partial batch")
    parser.add_argument("--out", type=Path, default=None, help="write the run's summary here as JSON (rank 0)")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="save the model and optimizer here after every epoch (rank 0)")
    arguments = parser.parse_args(argv)
    if arguments.epochs < 1 or arguments.batch_size < 1:
        parser.error("--epochs and --batch-size must be at least 1")
    return arguments


def train(arguments, worker):
    """The training run `arguments` describe, as this worker takes part in it; returns the
    summary (complete on rank 0: the other workers do not evaluate)."""
    train_inputs, train_targets, val_inputs, val_targets = mnist_tensors(arguments.data_limit)
    torch.manual_seed(arguments.seed)
    model = data_parallel(MODELS[arguments.model](), worker)
    module = model.module if isinstance(model, DistributedDataParallel) else model
    loader = sharded_loader(TensorDataset(train_inputs, train_targets), arguments.batch_size, worker,
                            seed=arguments.seed, sampler_drop_last=arguments.sampler_drop_last,
                            loader_drop_last=arguments.drop_last)
    val_loader = DataLoader(TensorDataset(val_inputs.to(worker.device), val_targets.to(worker.device)),
                            batch_size=1000)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=arguments.lr, momentum=arguments.momentum)
    summary = {
        "model": arguments.model, "world_size": worker.world_size, "backend": worker.backend,
        "device": str(worker.device), "batch_size_per_worker": arguments.batch_size,
        "global_batch_size": arguments.batch_size * worker.world_size, "train_samples": len(train_targets),
        "samples_per_worker": samples_per_worker(len(train_targets), worker.world_size, arguments.sampler_drop_last),
        "iterations_per_epoch": distributed_iterations_per_epoch(
            len(train_targets), arguments.batch_size, worker.world_size,
            sampler_drop_last=arguments.sampler_drop_last, loader_drop_last=arguments.drop_last),
        "epochs": [],
    }
    run = TrainingRun(module, optimizer, None, loader, None, History(), [])
    start = time.perf_counter()
    for epoch in range(1, arguments.epochs + 1):
        loader.sampler.set_epoch(epoch)  # a new order each epoch, the same on every worker
        epoch_start = time.perf_counter()
        loss_sum, n_samples, steps = 0.0, 0, 0
        for inputs, targets in loader:
            inputs, targets = inputs.to(worker.device), targets.to(worker.device)
            loss_sum += train_step(model, inputs, targets, loss_fn, optimizer) * len(targets)
            n_samples += len(targets)
            steps += 1
        seconds = time.perf_counter() - epoch_start
        loss_sum, n_samples = summed_over_workers([loss_sum, n_samples], worker)
        run.epoch, run.global_step = epoch, run.global_step + steps
        if worker.is_main:
            validation = evaluate(module, val_loader, loss_fn)  # the unwrapped copy: no collectives
            record = {"epoch": epoch, "iterations": steps, "train_loss": loss_sum / n_samples,
                      "val_loss": validation.loss, "val_accuracy": validation.accuracy, "seconds": seconds}
            summary["epochs"].append(record)
            print(f"epoch {epoch}: {steps} steps of {summary['global_batch_size']} samples in {seconds:.2f} s, "
                  f"train loss {record['train_loss']:.4f}, validation accuracy {validation.accuracy:.4f}", flush=True)
            if arguments.checkpoint is not None:
                save_checkpoint(arguments.checkpoint, run)
    summary["seconds"] = time.perf_counter() - start
    return summary


def main(argv=None):
    arguments = parse_arguments(argv)
    worker = start_worker()
    try:
        summary = train(arguments, worker)
    finally:
        stop_worker()
    if worker.is_main and arguments.out is not None:
        arguments.out.parent.mkdir(parents=True, exist_ok=True)
        arguments.out.write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
