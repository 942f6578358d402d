"""python -m snippets.linear_regression: one clear line for bad input.

Its report is checked where a reader sees it: the console block of
docs/en/index.md, which the harness runs and compares line by line.
"""

import pytest

from snippets import cli
from snippets import device as device_module
from snippets.linear_regression import PROG, main
from tests.harness import console_environment, run_python


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
    (["--epochs", "ten"], "argument --epochs: 'ten' is not a whole number"),
    (["--lr", "0"], "argument --lr: must be a positive number, got 0"),
    (["--lr", "-0.1"], "argument --lr: must be a positive number, got -0.1"),
    (["--lr", "nan"], "argument --lr: must be a positive number, got nan"),
    (["--device", "tpu"], "argument --device: device 'tpu' (asked for) is not a device name"),
    (["--device", "cuda"], "argument --device: device 'cuda' (asked for) cannot be used"),
])
def test_bad_argument_is_one_line_and_status_2(args, message, capsys, monkeypatch):
    monkeypatch.setattr(device_module, "cuda_available", lambda: False)
    with pytest.raises(SystemExit) as caught:
        cli.run(main, PROG, args)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{PROG}: error: {message}")


def test_bad_device_in_the_environment_is_one_line_and_status_2(capsys, monkeypatch):
    monkeypatch.setenv("SNIPPETS_DEVICE", "tpu")
    assert cli.run(main, PROG, []) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"{PROG}: error: device 'tpu' (from SNIPPETS_DEVICE) is not a device")


def test_diverging_loss_is_one_line_naming_the_epoch(capsys):
    assert cli.run(main, PROG, ["--device", "cpu", "--lr", "5"]) == 1
    assert capsys.readouterr().err == (
        f"{PROG}: error: the loss became inf at epoch 146: learning rate 5 is too large "
        "for this problem; try a smaller one\n")


def test_unavailable_cuda_from_the_shell_has_no_traceback():
    env = {**console_environment(), "CUDA_VISIBLE_DEVICES": ""}
    done = run_python(["-m", "snippets.linear_regression", "--device", "cuda"], env=env,
                      stderr_apart=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"{PROG}: error: argument --device: device 'cuda' (asked for) "
                                  "cannot be used: this PyTorch build")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_output_to_a_reader_that_has_gone_is_not_a_traceback():
    """The reader (true) ends at once, so the program's first write finds the
    pipe broken (with ``| head -1`` the whole output fits in the pipe first).
    Python writes its output to a pipe in blocks, as a reader's shell has it
    (PYTHONUNBUFFERED unset): the first write is then the last flush."""
    env = {name: value for name, value in console_environment().items()
           if name != "PYTHONUNBUFFERED"}
    done = run_python(["-m", "snippets.linear_regression", "--device", "cpu", "--epochs", "2"],
                      env=env, stderr_apart=True, pipe_to=["true"], timeout=120)
    assert done.stdout == ""
    assert done.stderr == ""


def test_output_cut_short_by_a_pipe_is_not_a_traceback():
    done = run_python(["-m", "snippets.linear_regression", "--device", "cpu", "--epochs", "2"],
                      stderr_apart=True, pipe_to=["head", "-1"], timeout=120)
    assert done.stdout.startswith("device: cpu, epochs: 2")
    assert done.stderr == ""
