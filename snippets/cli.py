"""Command-line plumbing shared by the pipelines: one clear line per bad input."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence

import numpy as np

from snippets.device import DeviceError, get_device
from snippets.training import DivergenceError, ShapeError


class ArgumentParser(argparse.ArgumentParser):
    """argparse prints the whole usage before an error; we print the error alone."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def device_arg(text: str):
    try:
        return get_device(text)
    except DeviceError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def pipeline_parser(module: str, description: str, epochs: int, lr: float) -> ArgumentParser:
    """The options every pipeline takes: --device, --epochs, --lr, --seed."""
    parser = ArgumentParser(prog=f"python -m snippets.{module}", description=description)
    parser.add_argument("--device", type=device_arg, default=None,
                        help="cpu, cuda, cuda:N or mps (default: SNIPPETS_DEVICE, else the best present)")
    parser.add_argument("--epochs", type=positive_int, default=epochs,
                        help=f"passes over the training data (default: {epochs})")
    parser.add_argument("--lr", type=positive_float, default=lr,
                        help=f"learning rate (default: {lr:g})")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    return parser


def run(main: Callable[[Sequence[str] | None], int], prog: str,
        argv: Sequence[str] | None = None) -> int:
    """Call ``main``; turn the errors a user can cause into one line and an exit status."""
    # NumPy would warn of the overflow on stderr before check_finite names the
    # epoch; the guard's line says the same thing, more usefully.
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            status = main(argv)
        # Written here, not at exit: to a pipe, stdout is written in blocks,
        # and a reader that has gone would break it only after this function.
        sys.stdout.flush()
        return status
    except (DeviceError, ShapeError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except DivergenceError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Whatever read our output stopped reading (`| head`): stop quietly,
        # and keep Python from reporting the closed pipe again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
