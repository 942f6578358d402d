"""Pick the device that every page and pipeline runs on.

Order of precedence: an explicit name, then the ``SNIPPETS_DEVICE``
environment variable, then CUDA, then Apple MPS, then the CPU.
"""

from __future__ import annotations

# --8<-- [start:get_device]
import os

import torch

ENV_VAR = "SNIPPETS_DEVICE"

KNOWN_TYPES = ("cpu", "cuda", "mps")


class DeviceError(ValueError):
    """A device was asked for that is unknown or not available here."""

    def __init__(self, requested: str, origin: str, reason: str):
        self.requested, self.origin, self.reason = requested, origin, reason
        self.available = available_devices()
        super().__init__(f"device {requested!r} ({origin}) {reason}; "
                         f"available here: {', '.join(self.available)}")


def cuda_available() -> bool:
    return torch.cuda.is_available()


def mps_available() -> bool:
    return torch.backends.mps.is_available()


def available_devices() -> list[str]:
    """Names of the devices this machine can run on, best first."""
    names = []
    if cuda_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if mps_available():
        names.append("mps")
    return names + ["cpu"]


def _check(requested: str, origin: str) -> torch.device:
    try:
        device = torch.device(requested)
    except (RuntimeError, TypeError):
        device = None
    if device is None:
        raise DeviceError(requested, origin,
                          "is not a device name: use 'cpu', 'cuda', 'cuda:N' or 'mps'")
    if device.type not in KNOWN_TYPES:
        raise DeviceError(requested, origin,
                          f"is a PyTorch device, but these pages do not run on its type, "
                          f"{device.type}: use 'cpu', 'cuda', 'cuda:N' or 'mps'")
    if device.type == "cuda":
        if not cuda_available():
            why = "has no CUDA support" if torch.version.cuda is None else "sees no CUDA GPU"
            raise DeviceError(requested, origin, f"cannot be used: this PyTorch build {why}")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise DeviceError(requested, origin,
                              f"cannot be used: there is no GPU number {device.index}, only {count}")
    if device.type == "mps" and not mps_available():
        raise DeviceError(requested, origin,
                          "cannot be used: Apple's Metal (MPS) backend is not available")
    return device


def get_device(name: str | None = None) -> torch.device:
    """Return the device to compute on.

    ``name`` ("cpu", "cuda", "cuda:1", "mps") wins; without it the
    SNIPPETS_DEVICE environment variable; without that, the best device
    present: CUDA, then MPS, then the CPU.
    """
    if name is not None:
        return _check(name, "asked for")
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return _check(from_env, f"from {ENV_VAR}")
    if cuda_available():
        return torch.device("cuda")
    if mps_available():
        return torch.device("mps")
    return torch.device("cpu")
# --8<-- [end:get_device]
