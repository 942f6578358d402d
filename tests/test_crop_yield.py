"""The crop-yield pipeline: data, the three training stages, and bad input to its command line.

Its report is checked where a reader sees it: the console block of
docs/en/crop-yields.md, which the harness runs and compares line by line.
"""

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from snippets import cli
from snippets.crop_yield import (
    PROG, STANDARDIZED_EPOCHS, STANDARDIZED_LR, crop_tensors, fit_from_scratch, gap,
    least_squares_mse, main, make_loader, model, mse, split, standardizer, train_and_validate,
    train_linear)
from snippets.device import get_device


@pytest.fixture(scope="module")
def data():
    return crop_tensors(15, get_device())


def test_data_is_the_fifteen_regions_starting_with_the_five(data):
    inputs, targets = data
    assert inputs.shape == (15, 3) and targets.shape == (15, 2)
    assert inputs.dtype == targets.dtype == torch.float32
    assert inputs[:5].tolist() == [[73, 67, 43], [91, 88, 64], [87, 134, 58], [102, 43, 37],
                                   [69, 96, 70]]
    assert targets[:5].tolist() == [[56, 70], [81, 101], [119, 133], [22, 37], [103, 119]]


def test_handwritten_mse_equals_torch(data):
    inputs, targets = data
    w, b = torch.ones(2, 3, device=inputs.device), torch.zeros(2, device=inputs.device)
    assert mse(model(inputs, w, b), targets).item() == pytest.approx(
        F.mse_loss(inputs @ w.t() + b, targets).item())


def test_training_from_scratch_lowers_the_loss(data):
    inputs, targets = crop_tensors(5, get_device())
    losses = [mse(model(inputs, *fit_from_scratch(inputs, targets, epochs)), targets).item()
              for epochs in (0, 1, 100)]
    assert losses[0] > losses[1] > losses[2]


def test_loader_gives_every_region_once_per_epoch_in_a_seeded_order(data):
    inputs, targets = data
    first = [x.tolist() for x, _ in make_loader(inputs, targets, batch_size=5, seed=1)]
    again = [x.tolist() for x, _ in make_loader(inputs, targets, batch_size=5, seed=1)]
    assert first == again and [len(batch) for batch in first] == [5, 5, 5]
    assert sorted(row for batch in first for row in batch) == sorted(inputs.tolist())


def test_train_linear_takes_a_loader_of_a_random_split_subset(data):
    """A subset from random_split has no .tensors: the device comes from an item."""
    train_set, _ = split(*data, val_size=3)
    linear, losses = train_linear(DataLoader(train_set, batch_size=5), epochs=2)
    assert len(losses) == 2 and linear.weight.device == data[0].device


def test_least_squares_mse_is_the_floor_of_every_linear_model(data):
    inputs, targets = data
    optimum = least_squares_mse(inputs, targets)
    linear, _ = train_linear(make_loader(inputs, targets), epochs=20)
    with torch.no_grad():
        assert F.mse_loss(linear(inputs), targets).item() > optimum > 0


def test_standardized_model_ends_within_one_percent_of_the_optimum(data):
    inputs, targets = data
    scale = standardizer(inputs)
    linear, _ = train_linear(make_loader(scale(inputs), targets), STANDARDIZED_EPOCHS,
                             STANDARDIZED_LR)
    with torch.no_grad():
        loss = F.mse_loss(linear(scale(inputs)), targets).item()
    assert loss <= 1.01 * least_squares_mse(inputs, targets)


def test_standardizer_uses_the_statistics_it_was_given(data):
    inputs, _ = data
    scaled = standardizer(inputs)(inputs)
    assert torch.allclose(scaled.mean(dim=0), torch.zeros(3, device=inputs.device), atol=1e-5)
    assert torch.allclose(scaled.std(dim=0), torch.ones(3, device=inputs.device), atol=1e-5)


def test_split_is_seeded_and_disjoint(data):
    train_set, val_set = split(*data, val_size=3, seed=7)
    again, _ = split(*data, val_size=3, seed=7)
    assert len(train_set) == 12 and len(val_set) == 3
    assert train_set.indices == again.indices
    assert not set(train_set.indices) & set(val_set.indices)


def test_validation_loss_is_measured_on_held_out_regions(data):
    train_mse, val_mse = train_and_validate(*data, val_size=3)
    assert 0 < train_mse < 2 and 0 < val_mse < 10


def test_fit_logs_every_tenth_epoch(data, capsys):
    inputs, targets = data
    train_linear(make_loader(inputs, targets), epochs=20, log_every=10)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == ["Epoch [10/20]", "Epoch [20/20]"]


@pytest.mark.parametrize("args, message", [
    (["--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
    (["--epochs", "-3"], "argument --epochs: must be at least 1, got -3"),
    (["--lr", "0"], "argument --lr: must be a positive number, got 0"),
    (["--device", "tpu"], "argument --device: device 'tpu' (asked for) is not a device name"),
])
def test_bad_argument_is_one_line_and_status_2(args, message, capsys):
    with pytest.raises(SystemExit) as caught:
        cli.run(main, PROG, args)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{PROG}: error: {message}")


def test_gap_keeps_to_its_column_for_a_huge_loss():
    assert [gap(loss, 1.0) for loss in (1.0008, 47.68, 2.1e16)] == ["0.08%", "4668%", "2.1e+18%"]


def test_a_loss_that_grows_without_overflowing_ends_the_run_normally(capsys):
    """Just above the stability limit nothing overflows in 100 epochs: the table
    shows the huge losses, each column still separated from the next."""
    assert cli.run(main, PROG, ["--device", "cpu", "--lr", "1.2e-4"]) == 0
    rows = capsys.readouterr().out.splitlines()[2:4]
    for row in rows:
        mse_, optimum, percent = row.split("apples")[0].split()[-3:]
        assert float(mse_) > 1e15 and 0 < float(optimum) < 1 and "e+" in percent


def test_diverging_loss_is_one_line_naming_the_epoch(capsys):
    assert cli.run(main, PROG, ["--device", "cpu", "--lr", "1e-3"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "the loss became inf at epoch 15: learning rate 0.001 is too large" in err
