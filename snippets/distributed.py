"""Crop yields under DistributedDataParallel: one process per rank, started by torchrun.

Every process holds the same standardized crop data, a DistributedSampler
gives each its own share of every global batch, and DDP averages the
gradients during backward. Rank 0 reports checks: that the gradients agree on
every rank, that the result equals one process trained on the same global
batches, and where a BatchNorm layer breaks that equality. Rank 0 saves the
checkpoint, every rank loads it, and a failure on any rank stops them all.

Run it:  python -m torch.distributed.run --standalone --nproc-per-node 2 -m snippets.distributed [--device D]
Without torchrun it trains ONE process on the global batches of --world-size processes.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence

# --8<-- [start:imports]
import gc

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset
# --8<-- [end:imports]

# Pages embed these functions' own sections instead of importing them.
from snippets import cli
from snippets.crop_yield import STANDARDIZED_EPOCHS, STANDARDIZED_LR, crop_tensors, standardizer
from snippets.crop_yield import least_squares_mse
from snippets.device import get_device
from snippets.training import check_finite

PROG = "python -m snippets.distributed"


# --8<-- [start:split]
def split_problem(world_size: int, regions: int, batch_size: int) -> str | None:
    """Why ``world_size`` processes cannot share the data and its global batches
    evenly, or None when they can."""
    if world_size > regions:
        return (f"{world_size} processes cannot share {regions} regions: each needs at "
                f"least one of its own; use at most {regions}")
    if batch_size % world_size:
        return (f"a global batch of {batch_size} regions cannot be split evenly across "
                f"{world_size} processes; use a multiple of {world_size}")
    return None
# --8<-- [end:split]


# --8<-- [start:reference]
def reference_training(dataset: TensorDataset, world_size: int, batch_size: int,
                       epochs: int, lr: float, seed: int = 42) -> tuple[nn.Linear, list[float]]:
    """One process, trained on the global batches that ``world_size`` processes draw:
    at each step, the batches of every rank's DistributedSampler, put together."""
    device = dataset.tensors[0].device
    torch.manual_seed(seed)
    model = nn.Linear(3, 2).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    samplers = [DistributedSampler(dataset, num_replicas=world_size, rank=rank, seed=seed)
                for rank in range(world_size)]
    loaders = [DataLoader(dataset, batch_size=batch_size // world_size, sampler=sampler)
               for sampler in samplers]
    losses = []
    for epoch in range(epochs):
        for sampler in samplers:
            sampler.set_epoch(epoch)
        epoch_losses = []
        for shares in zip(*loaders):
            x = torch.cat([x for x, _ in shares])
            y = torch.cat([y for _, y in shares])
            loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            epoch_losses.append(loss.item())
        losses.append(sum(epoch_losses) / len(epoch_losses))
        check_finite(losses[-1], epoch + 1, lr)
    return model, losses
# --8<-- [end:reference]


# --8<-- [start:setup]
BACKENDS = {"cpu": "gloo", "cuda": "nccl"}


def start_process_group(device: torch.device) -> tuple[int, int, torch.device]:
    """Join the group that torchrun's rendezvous prepared; return the rank, the world
    size and this process's device (cuda:LOCAL_RANK on GPUs, one GPU per process)."""
    local_rank = int(os.environ["LOCAL_RANK"])
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group(backend=BACKENDS[device.type],
                            device_id=device if device.type == "cuda" else None)
    return dist.get_rank(), dist.get_world_size(), device
# --8<-- [end:setup]


# --8<-- [start:train]
def train_ddp(dataset: TensorDataset, batch_size: int, epochs: int, lr: float,
              seed: int = 42) -> tuple[DistributedDataParallel, list[float]]:
    """Train nn.Linear(3, 2) under DDP; every rank calls this with the same arguments.
    Returns the wrapped model and the mean loss of each epoch over all ranks."""
    device = dataset.tensors[0].device
    world_size = dist.get_world_size()
    torch.manual_seed(seed)
    model = DistributedDataParallel(nn.Linear(3, 2).to(device),
                                    device_ids=[device] if device.type == "cuda" else None)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    sampler = DistributedSampler(dataset, seed=seed)
    loader = DataLoader(dataset, batch_size=batch_size // world_size, sampler=sampler)
    losses = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        total = torch.zeros((), device=device)
        for x, y in loader:
            loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            total += loss.detach()
        dist.all_reduce(total)
        losses.append(total.item() / (len(loader) * world_size))
        check_finite(losses[-1], epoch + 1, lr)
    return model, losses
# --8<-- [end:train]


# --8<-- [start:gather]
def gather(tensor: torch.Tensor) -> list[torch.Tensor]:
    """This tensor from every rank, in rank order (every rank must call it)."""
    pieces = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
    dist.all_gather(pieces, tensor.contiguous())
    return pieces


def flat_grad(model: nn.Module) -> torch.Tensor:
    """All parameters' gradients in one vector."""
    return torch.cat([param.grad.reshape(-1) for param in model.parameters()])


def identical_on_every_rank(tensor: torch.Tensor) -> bool:
    """Whether every rank holds this tensor bit for bit (every rank must call it)."""
    return all(torch.equal(piece, tensor) for piece in gather(tensor))
# --8<-- [end:gather]


# --8<-- [start:gradient_checks]
def gradient_checks(model: DistributedDataParallel, x: torch.Tensor,
                    y: torch.Tensor) -> dict[str, bool]:
    """Backward several ways on this rank's batch (x, y) and compare: bit for bit
    (torch.equal) across ranks, within torch.allclose's default tolerance otherwise.
    The gradients are zeroed again after each. Every rank must call it with the same
    batch size; the micro-batch checks need at least 2 rows per rank."""
    with model.no_sync():
        F.mse_loss(model(x), y).backward()
    own = flat_grad(model)
    model.zero_grad()

    F.mse_loss(model(x), y).backward()
    averaged = flat_grad(model)
    model.zero_grad()

    one_process = copy.deepcopy(model.module)
    F.mse_loss(one_process(torch.cat(gather(x))), torch.cat(gather(y))).backward()
    checks = {
        "each rank's own gradient (backward under no_sync) differs between ranks":
            not identical_on_every_rank(own),
        "after backward, the gradient is identical on every rank": identical_on_every_rank(averaged),
        "it is the mean of the ranks' own gradients":
            torch.allclose(averaged, torch.stack(gather(own)).mean(dim=0)),
        "it equals one process's gradient on the whole global batch":
            torch.allclose(averaged, flat_grad(one_process)),
    }
    if len(x) < 2:
        return checks

    half = len(x) // 2
    with model.no_sync():
        (F.mse_loss(model(x[:half]), y[:half]) * half / len(x)).backward()
    (F.mse_loss(model(x[half:]), y[half:]) * (len(x) - half) / len(x)).backward()
    accumulated = flat_grad(model)
    model.zero_grad()

    (F.mse_loss(model(x[:half]), y[:half]) * half / len(x)).backward()
    (F.mse_loss(model(x[half:]), y[half:]) * (len(x) - half) / len(x)).backward()
    synced_twice = flat_grad(model)
    model.zero_grad()
    checks["two micro-batches accumulated under no_sync give the same gradient"] = \
        torch.allclose(accumulated, averaged)
    checks["without no_sync, all-reducing after each micro-batch, they give it too"] = \
        torch.allclose(synced_twice, averaged)
    return checks
# --8<-- [end:gradient_checks]


# --8<-- [start:batchnorm]
def batchnorm_checks(x: torch.Tensor, y: torch.Tensor, seed: int = 42) -> dict[str, bool | str]:
    """One backward of a model with a BatchNorm1d layer on this rank's batch (x, y),
    under DDP, then with nn.SyncBatchNorm in its place, where this device allows it.
    Every rank must call it with the same batch size, at least 2. Where DDP refuses
    SyncBatchNorm, it does so after building its Reducer: gc.collect() frees that
    while the process group still exists."""
    device = x.device
    device_ids = [device] if device.type == "cuda" else None
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(3, 4, bias=False), nn.BatchNorm1d(4), nn.Linear(4, 2)).to(device)
    one_process, fresh = copy.deepcopy(net), copy.deepcopy(net)
    model = DistributedDataParallel(net, device_ids=device_ids)
    F.mse_loss(model(x), y).backward()
    F.mse_loss(one_process(torch.cat(gather(x))), torch.cat(gather(y))).backward()
    running_mean = model.module[1].running_mean.clone()
    model.eval()
    with torch.no_grad():
        model(x)
    checks: dict[str, bool | str] = {
        "with BatchNorm1d, the gradient is identical on every rank":
            identical_on_every_rank(flat_grad(model)),
        "but it is not equal to one process's gradient on the whole global batch":
            not torch.allclose(flat_grad(model), flat_grad(one_process)),
        "after that forward, the running means differ between ranks":
            not identical_on_every_rank(running_mean),
        "the next forward gives every rank the running mean of rank 0":
            torch.equal(model.module[1].running_mean, gather(running_mean)[0]),
    }
    try:
        synced = DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(fresh),
                                         device_ids=device_ids)
    except ValueError as error:
        checks[f"nn.SyncBatchNorm under DDP on {device.type}"] = f"ValueError: {error}"
        del error
        gc.collect()
        return checks
    F.mse_loss(synced(x), y).backward()
    checks["with nn.SyncBatchNorm instead, it equals one process's gradient"] = \
        torch.allclose(flat_grad(synced), flat_grad(one_process))
    return checks
# --8<-- [end:batchnorm]


# --8<-- [start:checkpoint]
class CheckpointError(Exception):
    """The checkpoint's path, saving or loading failed on some rank; raised on every rank."""


def agree(failure: str | None, doing: str) -> None:
    """Every rank tells every other whether its part of ``doing`` failed; if one did,
    every rank raises the same CheckpointError, and none is left waiting in a
    collective that the others never reach. Every rank must call it."""
    failures = [None] * dist.get_world_size()
    dist.all_gather_object(failures, failure)
    ranks_by_failure: dict[str, list[int]] = {}
    for rank, text in enumerate(failures):
        if text is not None:
            ranks_by_failure.setdefault(text, []).append(rank)
    if ranks_by_failure:
        reports = [f"{'rank' if len(ranks) == 1 else 'ranks'} "
                   f"{', '.join(map(str, ranks))}: {text}"
                   for text, ranks in ranks_by_failure.items()]
        raise CheckpointError(f"{doing}: " + "; ".join(reports))


def save_and_reload(model: DistributedDataParallel, path: str) -> bool:
    """Rank 0 saves the plain module's state_dict; once every rank knows that it is
    written, every rank loads it onto its own device. True on every rank if every
    rank got its parameters back; if any rank fails, CheckpointError on every rank."""
    failure = None
    if dist.get_rank() == 0:
        try:
            torch.save(model.module.state_dict(), path)
        except Exception as error:
            failure = f"{type(error).__name__}: {error}"
    agree(failure, "saving the checkpoint")
    device = next(model.parameters()).device
    restored = nn.Linear(3, 2).to(device)
    try:
        restored.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    except Exception as error:
        failure = f"{type(error).__name__}: {error}"
    agree(failure, "loading the checkpoint")
    same = all(torch.equal(a, b) for a, b in zip(restored.parameters(), model.parameters()))
    agreed = torch.tensor(int(same), device=device)
    dist.all_reduce(agreed, op=dist.ReduceOp.MIN)
    return bool(agreed.item())
# --8<-- [end:checkpoint]


def crop_dataset(device: torch.device) -> TensorDataset:
    """The fifteen regions, inputs standardized as in the crop chapter's last stage."""
    inputs, targets = crop_tensors(15, device)
    return TensorDataset(standardizer(inputs)(inputs), targets)


def final_mse(model: nn.Module, dataset: TensorDataset) -> float:
    """The model's MSE on the whole dataset."""
    with torch.no_grad():
        return F.mse_loss(model(dataset.tensors[0]), dataset.tensors[1]).item()


def parameters_close(a: nn.Module, b: nn.Module) -> bool:
    """Whether two models' parameters agree within torch.allclose's default tolerance."""
    return all(torch.allclose(p, q) for p, q in zip(a.parameters(), b.parameters()))


def first_step_report(dataset: TensorDataset, per_rank: int, seed: int) -> list[str]:
    """The regions of step 1 on every rank, and the gradient checks on them."""
    sampler = DistributedSampler(dataset, seed=seed)
    sampler.set_epoch(0)
    first = list(sampler)[:per_rank]
    shares = [None] * dist.get_world_size()
    dist.all_gather_object(shares, first)
    lines = ["epoch 1, step 1: " + ", ".join(f"rank {rank} gets regions {share}"
                                            for rank, share in enumerate(shares))]
    device = dataset.tensors[0].device
    torch.manual_seed(seed)
    probe = DistributedDataParallel(nn.Linear(3, 2).to(device),
                                    device_ids=[device] if device.type == "cuda" else None)
    x, y = dataset[first]
    checks = gradient_checks(probe, x, y)
    if per_rank >= 2:
        checks.update(batchnorm_checks(x, y, seed))
    lines += [f"step 1, {name}: {value}" for name, value in checks.items()]
    if per_rank < 2:
        lines.append("step 1, micro-batches and BatchNorm1d not checked: they need at least "
                     "2 regions per rank")
    return lines


def checkpoint_report(model: DistributedDataParallel, checkpoint: str | None) -> str:
    """Save on rank 0 and reload on every rank, to ``checkpoint`` or to a temporary
    file that rank 0 creates, shares with the others (on its own machine), and removes."""
    folder = [tempfile.mkdtemp(prefix="crop-ddp-")
              if checkpoint is None and dist.get_rank() == 0 else None]
    if checkpoint is None:
        dist.broadcast_object_list(folder, src=0)
    path = checkpoint or os.path.join(folder[0], "crop-ddp.pt")
    try:
        reloaded = save_and_reload(model, path)
    finally:
        if dist.get_rank() == 0 and checkpoint is None:
            shutil.rmtree(folder[0], ignore_errors=True)
    where = f"to {path}" if checkpoint else "to a temporary file, then removed"
    return f"rank 0 saved the state_dict ({where}); every rank loaded it back: {reloaded}"


def run_ddp(args: argparse.Namespace, device: torch.device) -> None:
    """The body of every process under torchrun; rank 0 prints."""
    rank, world_size, device = start_process_group(device)
    say = print if rank == 0 else (lambda *_: None)
    try:
        # Every rank has joined, and written what its backend writes while
        # joining (gloo in torch 2.10), before rank 0 prints a line.
        dist.barrier()
        if args.checkpoint is not None:
            # Machines differ in their file systems: every rank checks, all agree.
            agree(checkpoint_problem(args.checkpoint, writes=rank == 0),
                  f"--checkpoint {args.checkpoint}")
        dataset = crop_dataset(device)
        per_rank = args.batch_size // world_size
        say(f"{world_size} processes, backend {dist.get_backend()}, device {device.type}; "
            f"global batch {args.batch_size} = {world_size} x {per_rank} regions, "
            f"lr {args.lr:g}, seed {args.seed}")
        say("'identical' and 'differ' compare bit for bit; 'equal', 'same' and 'mean' hold "
            "within torch.allclose's tolerance, |a - b| <= 1e-08 + 1e-05 |b|")
        for line in first_step_report(dataset, per_rank, args.seed):
            say(line)

        model, losses = train_ddp(dataset, args.batch_size, args.epochs, args.lr, args.seed)
        params = torch.cat([param.detach().reshape(-1) for param in model.parameters()])
        identical = identical_on_every_rank(params)
        steps = args.epochs * math.ceil(math.ceil(len(dataset) / world_size) / per_rank)
        say(f"after {args.epochs} epochs ({steps} steps): loss {losses[-1]:.4f}, MSE on the 15 "
            f"regions {final_mse(model.module, dataset):.4f}, least-squares optimum "
            f"{least_squares_mse(*dataset.tensors):.4f}")
        say(f"the parameters are identical on every rank: {identical}")
        # Every rank computes the reference, so that a failure in it is the same on all.
        reference, _ = reference_training(dataset, world_size, args.batch_size,
                                          args.epochs, args.lr, args.seed)
        say("they equal those of one process trained on the same global batches: "
            f"{parameters_close(model.module, reference)}")
        say(checkpoint_report(model, args.checkpoint))
        # Every DDP model freed while the group exists (DDP's modules are
        # held in reference cycles, which only the collector frees), and
        # every rank done before any tears the group down: otherwise a
        # rank aborted at exit now and then ("terminate called without an
        # active exception").
        del model
        gc.collect()
        dist.barrier()
    finally:
        dist.destroy_process_group()


def checkpoint_problem(path: str, writes: bool) -> str | None:
    """Why this process could not use ``path`` as the checkpoint (``writes``: it
    saves it, too), or None."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        return f"{path} is a folder; give a file name in it"
    if not os.path.isdir(folder):
        return f"there is no folder {folder}"
    if writes and not os.access(folder, os.W_OK):
        return f"the folder {folder} is not writable"
    return None


def run_reference(args: argparse.Namespace, device: torch.device, world_size: int) -> None:
    """Without torchrun: the one-process reference for ``world_size`` processes."""
    dataset = crop_dataset(device)
    model, losses = reference_training(dataset, world_size, args.batch_size, args.epochs,
                                       args.lr, args.seed)
    print(f"one process, the global batches of {world_size} processes: {args.batch_size} "
          f"regions a step, lr {args.lr:g}, seed {args.seed}")
    print(f"after {args.epochs} epochs: loss {losses[-1]:.4f}, MSE on the 15 regions "
          f"{final_mse(model, dataset):.4f}, least-squares optimum "
          f"{least_squares_mse(*dataset.tensors):.4f}")


def under_torchrun() -> bool:
    """Whether torchrun started this process (it sets these variables)."""
    return all(name in os.environ for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.pipeline_parser("distributed", __doc__.splitlines()[0],
                                 epochs=STANDARDIZED_EPOCHS, lr=STANDARDIZED_LR)
    parser.add_argument("--batch-size", type=cli.positive_int, default=4,
                        help="regions per global batch, split evenly across the processes (default: 4)")
    parser.add_argument("--backend", choices=sorted(set(BACKENDS.values())), default=None,
                        help="gloo or nccl (default: gloo on cpu, nccl on cuda)")
    parser.add_argument("--world-size", type=cli.positive_int, default=None,
                        help="without torchrun: train one process on the global batches of this "
                             "many processes (default: 2); under torchrun: its number of processes")
    parser.add_argument("--checkpoint", default=None,
                        help="under torchrun: where rank 0 saves the state_dict, for every rank to "
                             "load (default: a temporary file, removed; on one machine only)")
    args = parser.parse_args(argv)

    device = args.device or get_device()
    if device.type not in BACKENDS:
        parser.error(f"device {device.type!r}: this program trains on cpu (gloo) or cuda (nccl); "
                     "use --device cpu")
    backend = args.backend or BACKENDS[device.type]
    if backend != BACKENDS[device.type]:
        parser.error(f"backend {backend!r} does not go with device {device.type!r}: "
                     f"use {BACKENDS[device.type]!r} there")
    if backend == "nccl" and not dist.is_nccl_available():
        parser.error("backend 'nccl': this PyTorch build has no NCCL")

    distributed = under_torchrun()
    world_size = int(os.environ["WORLD_SIZE"]) if distributed else (args.world_size or 2)
    if distributed and args.world_size not in (None, world_size):
        parser.error(f"--world-size {args.world_size}, but torchrun started {world_size} processes")
    problem = split_problem(world_size, 15, args.batch_size)
    if problem:
        parser.error(problem)
    if distributed and device.type == "cuda":
        local_rank, count = int(os.environ["LOCAL_RANK"]), torch.cuda.device_count()
        if local_rank >= count:
            parser.error(f"process {local_rank} of this machine needs GPU {local_rank}, but there "
                         f"are {count}: start at most {count} processes per machine")
    local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", world_size))
    if distributed and args.checkpoint is None and local_world_size != world_size:
        parser.error(f"{world_size} processes, {local_world_size} on this machine: those on "
                     "other machines cannot read rank 0's temporary file; give --checkpoint a "
                     "path on a file system that every machine shares")

    if distributed:
        try:
            run_ddp(args, device)
        except CheckpointError as error:
            print(f"{PROG}: error: {error}", file=sys.stderr)
            return 1
    else:
        run_reference(args, device, world_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, PROG))
