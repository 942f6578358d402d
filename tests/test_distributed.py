"""snippets.distributed: two processes under torchrun equal one process, and bad input is one line."""

import os
import shlex

import pytest
import torch

from snippets import cli
from snippets.distributed import (PROG, crop_dataset, main, reference_training, split_problem,
                                  under_torchrun)
from tests.harness import ROOT, run_command

# The command the chapter shows; run_command caches it, so a session that also
# checks the pages launches torchrun once for both.
TORCHRUN = "-m torch.distributed.run --standalone --nproc-per-node 2 -m snippets.distributed --device cpu"
TORCHRUN_ENV = ("RANK", "LOCAL_RANK", "WORLD_SIZE")


@pytest.fixture(scope="module")
def ddp_output() -> list[str]:
    before = set(os.listdir(ROOT))
    lines = run_command(tuple(shlex.split(TORCHRUN)))
    assert set(os.listdir(ROOT)) <= before, "the run left files in the repository"
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


def test_every_check_holds_and_only_rank_0_prints(ddp_output):
    found = checks(ddp_output)
    assert len(found) == 8 and set(found.values()) == {"True"}, ddp_output
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
