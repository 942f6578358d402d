"""Device selection, with CUDA and MPS availability simulated on any machine."""

import pytest
import torch

from snippets import device as device_module
from snippets.device import ENV_VAR, DeviceError, available_devices, get_device


@pytest.fixture
def machine(monkeypatch):
    """Pretend to be a machine with the given GPUs; no SNIPPETS_DEVICE set."""
    monkeypatch.delenv(ENV_VAR, raising=False)

    def pretend(cuda_gpus: int = 0, mps: bool = False):
        monkeypatch.setattr(device_module, "cuda_available", lambda: cuda_gpus > 0)
        monkeypatch.setattr(device_module, "mps_available", lambda: mps)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda_gpus)
    return pretend


def test_cpu_only_machine_gets_the_cpu(machine):
    machine()
    assert get_device() == torch.device("cpu")


def test_cuda_is_preferred_to_mps_and_cpu(machine):
    machine(cuda_gpus=1, mps=True)
    assert get_device() == torch.device("cuda")


def test_mps_is_preferred_to_the_cpu(machine):
    machine(mps=True)
    assert get_device() == torch.device("mps")


def test_environment_variable_overrides_the_automatic_choice(machine, monkeypatch):
    machine(cuda_gpus=1)
    monkeypatch.setenv(ENV_VAR, "cpu")
    assert get_device() == torch.device("cpu")


def test_explicit_name_overrides_the_environment_variable(machine, monkeypatch):
    machine(cuda_gpus=2)
    monkeypatch.setenv(ENV_VAR, "cpu")
    assert get_device("cuda:1") == torch.device("cuda", 1)


def test_available_devices_lists_every_gpu_then_the_cpu(machine):
    machine(cuda_gpus=2)
    assert available_devices() == ["cuda:0", "cuda:1", "cpu"]


def test_unknown_name_is_a_clear_error(machine):
    machine()
    with pytest.raises(DeviceError) as caught:
        get_device("gpu")
    assert str(caught.value) == (
        "device 'gpu' (asked for) is not a device name: use 'cpu', 'cuda', 'cuda:N' or 'mps';"
        " available here: cpu")


def test_other_pytorch_device_type_is_not_called_unknown(machine):
    machine()
    for name in ("xpu", "xpu:0", "meta"):
        with pytest.raises(DeviceError) as caught:
            get_device(name)
        assert caught.value.reason == (
            f"is a PyTorch device, but these pages do not run on its type, "
            f"{torch.device(name).type}: use 'cpu', 'cuda', 'cuda:N' or 'mps'")


def test_unavailable_cuda_says_why_and_what_is_available(machine):
    machine(mps=True)
    with pytest.raises(DeviceError) as caught:
        get_device("cuda")
    message = str(caught.value)
    assert message.startswith("device 'cuda' (asked for) cannot be used: this PyTorch build")
    assert message.endswith("available here: mps, cpu")


def test_missing_gpu_number_is_a_clear_error(machine):
    machine(cuda_gpus=1)
    with pytest.raises(DeviceError, match="there is no GPU number 1, only 1; "
                                          "available here: cuda:0, cpu"):
        get_device("cuda:1")


def test_unavailable_mps_is_a_clear_error(machine):
    machine()
    with pytest.raises(DeviceError, match="Metal \\(MPS\\) backend is not available"):
        get_device("mps")


def test_bad_environment_value_names_the_variable(machine, monkeypatch):
    machine()
    monkeypatch.setenv(ENV_VAR, "tpu")
    with pytest.raises(DeviceError, match=f"device 'tpu' \\(from {ENV_VAR}\\) is not a device"):
        get_device()
