"""snippets.distributed: two processes under torchrun equal one process, and bad input is one line."""

import datetime
import errno
import multiprocessing
import os
import queue
import shlex
import socket
import tempfile

import pytest
import torch
from torch import nn

from snippets import cli
from snippets.distributed import (PROG, checkpoint_problem, crop_dataset, first_step_report,
                                  main, reference_training, split_problem, under_torchrun)
from tests.harness import ROOT, run_command

# The command the chapter shows; run_command caches it, so a session that also
# checks the pages launches torchrun once for both.
TORCHRUN = "-m torch.distributed.run --standalone --nproc-per-node 2 -m snippets.distributed --device cpu"
TORCHRUN_ENV = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE")


@pytest.fixture(scope="module")
def ddp_output() -> list[str]:
    before = set(os.listdir(ROOT))
    lines = run_command(tuple(shlex.split(TORCHRUN)))
    # .cache is the suite's own, which the other worker may create meanwhile
    # (a fresh clone's first site build).
    left = set(os.listdir(ROOT)) - before - {".cache"}
    assert not left, f"the run left files in the repository: {sorted(left)}"
    return lines


def checks(lines: list[str]) -> dict[str, str]:
    """The lines that end in ': True' or ': False', by their text before it."""
    return dict(line.rsplit(": ", 1) for line in lines if line.endswith((": True", ": False")))


@pytest.fixture
def no_torchrun(monkeypatch):
    for name in TORCHRUN_ENV:
        monkeypatch.delenv(name, raising=False)


def test_two_processes_end_with_the_parameters_of_one_process(ddp_output):
    found = checks(ddp_output)
    assert found["the parameters are identical on every rank"] == "True"
    assert found["they equal those of one process trained on the same global batches"] == "True"


def test_gradients_after_backward_are_identical_on_every_rank(ddp_output):
    found = checks(ddp_output)
    assert found["step 1, each rank's own gradient (backward under no_sync) differs between ranks"] == "True"
    assert found["step 1, after backward, the gradient is identical on every rank"] == "True"
    assert found["step 1, it is the mean of the ranks' own gradients"] == "True"
    assert found["step 1, it equals one process's gradient on the whole global batch"] == "True"
    assert found["step 1, two micro-batches accumulated under no_sync give the same gradient"] == "True"
    assert found["step 1, without no_sync, all-reducing after each micro-batch, they give it too"] == "True"


def test_batchnorm_statistics_stay_per_process(ddp_output):
    found = checks(ddp_output)
    assert found["step 1, with BatchNorm1d, the gradient is identical on every rank"] == "True"
    assert found["step 1, but it is not equal to one process's gradient on the whole global batch"] == "True"
    assert found["step 1, after that forward, the running means differ between ranks"] == "True"
    assert found["step 1, the next forward gives every rank the running mean of rank 0"] == "True"
    # torch 2.13: DDP refuses a CPU module that holds a SyncBatchNorm layer.
    assert ("step 1, nn.SyncBatchNorm under DDP on cpu: ValueError: SyncBatchNorm layers only "
            "work with GPU modules") in ddp_output


def test_every_check_holds_and_only_rank_0_prints(ddp_output):
    found = checks(ddp_output)
    assert len(found) == 13 and set(found.values()) == {"True"}, ddp_output
    headers = [line for line in ddp_output if line.startswith("2 processes, backend gloo")]
    assert len(headers) == 1


def test_one_process_on_the_same_global_batches_reaches_the_same_loss(ddp_output, no_torchrun,
                                                                      capsys):
    assert cli.run(main, PROG, ["--device", "cpu"]) == 0
    alone = capsys.readouterr().out.splitlines()[1]
    together = next(line for line in ddp_output if line.startswith("after 100 epochs"))
    assert alone.split("loss ")[1] == together.split("loss ")[1], (alone, together)


def test_reference_with_one_process_is_plain_minibatch_sgd():
    dataset = crop_dataset(torch.device("cpu"))
    model, losses = reference_training(dataset, world_size=1, batch_size=5, epochs=3, lr=0.1)
    assert len(losses) == 3 and losses[0] > losses[-1]


@pytest.mark.parametrize("world_size, batch_size, problem", [
    (2, 4, None),
    (15, 15, None),
    (16, 16, "16 processes cannot share 15 regions"),
    (2, 5, "a global batch of 5 regions cannot be split evenly across 2 processes"),
])
def test_split_problem_names_what_cannot_be_shared(world_size, batch_size, problem):
    found = split_problem(world_size, 15, batch_size)
    assert found == problem if problem is None else found.startswith(problem)


@pytest.mark.parametrize("args, message", [
    (["--world-size", "16"], "16 processes cannot share 15 regions: each needs at least one"),
    (["--batch-size", "5"], "a global batch of 5 regions cannot be split evenly across 2"),
    (["--backend", "mpi"], "argument --backend: invalid choice: 'mpi'"),
    (["--backend", "nccl", "--device", "cpu"], "backend 'nccl' does not go with device 'cpu'"),
    (["--device", "tpu"], "argument --device: device 'tpu' (asked for) is not a device name"),
])
def test_bad_input_is_one_line_and_status_2(args, message, no_torchrun, capsys):
    with pytest.raises(SystemExit) as caught:
        cli.run(main, PROG, ["--device", "cpu", *args] if "--device" not in args else args)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{PROG}: error: {message}"), err


def test_under_torchrun_bad_input_stops_before_the_process_group(monkeypatch, capsys):
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "16")
    assert under_torchrun()
    with pytest.raises(SystemExit) as caught:
        cli.run(main, PROG, ["--device", "cpu"])
    assert caught.value.code == 2
    assert not torch.distributed.is_initialized()
    assert capsys.readouterr().err == (
        f"{PROG}: error: 16 processes cannot share 15 regions: each needs at least one of its "
        "own; use at most 15\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_local_world_size_below_world_size_needs_a_checkpoint_path(monkeypatch, capsys):
    """Processes on two machines: rank 0's temporary folder is not on the other one."""
    for name, value in (("RANK", "0"), ("LOCAL_RANK", "0"), ("WORLD_SIZE", "2"),
                        ("LOCAL_WORLD_SIZE", "1")):
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as caught:
        cli.run(main, PROG, ["--device", "cpu"])
    assert caught.value.code == 2
    assert not torch.distributed.is_initialized()
    assert capsys.readouterr().err == (
        f"{PROG}: error: 2 processes, 1 on this machine: those on other machines cannot read "
        "rank 0's temporary file; give --checkpoint a path on a file system that every "
        "machine shares\n")


@pytest.mark.parametrize("name, writes, problem", [
    ("crop.pt", True, None),
    ("", True, "is a folder; give a file name in it"),
    ("missing/crop.pt", False, "there is no folder"),
])
def test_checkpoint_problem_names_what_is_wrong(tmp_path, name, writes, problem):
    found = checkpoint_problem(str(tmp_path / name), writes)
    assert found == problem if problem is None else problem in found


def test_a_checkpoint_in_a_missing_folder_is_refused_before_training(monkeypatch, capsys):
    """One process under torchrun's variables joins a group of one, agrees on the
    refusal, and stops before the first line of training: one line, status 1."""
    for name, value in (("RANK", "0"), ("LOCAL_RANK", "0"), ("WORLD_SIZE", "1"),
                        ("LOCAL_WORLD_SIZE", "1"), ("MASTER_ADDR", "127.0.0.1"),
                        ("MASTER_PORT", str(free_port()))):
        monkeypatch.setenv(name, value)
    assert cli.run(main, PROG, ["--device", "cpu", "--checkpoint", "/no/such/dir/x.pt"]) == 1
    assert not torch.distributed.is_initialized()
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (f"{PROG}: error: --checkpoint /no/such/dir/x.pt: rank 0: there is no "
                   "folder /no/such/dir\n")


class Replica(nn.Module):
    """What the checkpoint functions use of DDP, its ``module``, without DDP's set-up."""

    def __init__(self) -> None:
        super().__init__()
        self.module = nn.Linear(3, 2)


def two_rank_worker(rank: int, port: int, folder: str, results) -> None:
    """One of two processes in a gloo group: the checkpoint's failure paths. Rank 1
    plays a process on a second machine, which does not see rank 0's files."""
    import torch.distributed as dist

    from snippets import distributed

    tempfile.tempdir = folder
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=2, timeout=datetime.timedelta(seconds=20))
    torch.manual_seed(0)
    model = Replica()
    found = {}
    load = torch.load
    for case, path in (("save", os.path.join(folder, "missing", "x.pt")),
                       ("load", None), ("ok", None)):
        if case == "load" and rank == 1:
            def load_elsewhere(path, *args, **kwargs):
                raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
            torch.load = load_elsewhere
        try:
            found[case] = distributed.checkpoint_report(model, path)
        except distributed.CheckpointError as error:
            found[case] = f"CheckpointError: {error}"
        torch.load = load
    try:
        distributed.agree(distributed.checkpoint_problem("/no/such/dir/x.pt", writes=rank == 0),
                          "--checkpoint /no/such/dir/x.pt")
    except distributed.CheckpointError as error:
        found["path"] = str(error)
    dist.destroy_process_group()
    results.put((rank, found))


def test_a_failure_on_one_rank_stops_every_rank_with_the_same_message(tmp_path):
    """Without agreement, a rank that cannot load the checkpoint went on to the next
    collective while the others waited in theirs, until the group's timeout."""
    # Fresh processes, as torchrun starts (not forks of this one, which has
    # run process groups of its own); forked from a server that imported
    # torch and this file once, instead of each importing them.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["torch", __name__])
    results = context.Queue()
    port = free_port()
    workers = [context.Process(target=two_rank_worker, args=(rank, port, str(tmp_path), results))
               for rank in range(2)]
    for worker in workers:
        worker.start()
    try:
        found = dict(results.get(timeout=60) for _ in workers)
    except queue.Empty:
        pytest.fail("the two ranks did not finish within 60 s")
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
    assert found[0] == found[1]
    missing = os.path.join(str(tmp_path), "missing")
    assert found[0]["save"] == ("CheckpointError: saving the checkpoint: rank 0: RuntimeError: "
                                f"Parent directory {missing} does not exist.")
    assert found[0]["load"].startswith(
        "CheckpointError: loading the checkpoint: rank 1: FileNotFoundError: [Errno 2] "
        "No such file or directory: ")
    assert found[0]["ok"].endswith("every rank loaded it back: True")
    assert os.listdir(tmp_path) == [], "rank 0 left its temporary folders"
    # The line the chapter quotes for two processes.
    assert found[0]["path"] == "--checkpoint /no/such/dir/x.pt: ranks 0, 1: there is no folder /no/such/dir"


@pytest.fixture
def group_of_one():
    """A gloo process group of this process alone."""
    torch.distributed.init_process_group("gloo", store=torch.distributed.HashStore(),
                                         rank=0, world_size=1)
    yield
    torch.distributed.destroy_process_group()


def test_one_region_per_rank_skips_the_checks_that_need_two(group_of_one):
    """A micro-batch of x[:0] would compare a gradient with itself, and BatchNorm in
    training needs more than one value per channel."""
    dataset = crop_dataset(torch.device("cpu"))
    lines = first_step_report(dataset, per_rank=1, seed=42)
    assert lines[0] == "epoch 1, step 1: rank 0 gets regions [12]"
    assert [line.rsplit(": ", 1)[1] for line in lines[1:-1]] == ["False", "True", "True", "True"]
    assert not any("micro-batch" in line or "BatchNorm1d," in line for line in lines[1:-1])
    assert lines[-1] == ("step 1, micro-batches and BatchNorm1d not checked: they need at "
                         "least 2 regions per rank")
