"""fit: the loss history, validation after every epoch, and early stopping."""

import pytest
import torch

from snippets.linear_regression import make_data, train_with_validation
from snippets.training import DivergenceError, fit


@pytest.fixture(scope="module")
def tensors():
    return [torch.from_numpy(arr).float() for arr in make_data()]


def test_fit_returns_one_training_loss_per_epoch_and_no_validation_without_validate():
    losses = iter([3.0, 2.0, 1.0])
    train_losses, val_losses = fit(lambda x, y: next(losses), [(None, None)], epochs=3, lr=0.1)
    assert train_losses == [3.0, 2.0, 1.0] and val_losses == []


def test_fit_averages_the_batches_of_an_epoch():
    losses = iter([1.0, 3.0, 5.0, 7.0])
    train_losses, _ = fit(lambda x, y: next(losses), [(0, 0), (1, 1)], epochs=2, lr=0.1)
    assert train_losses == [2.0, 6.0]


def test_early_stopping_waits_patience_epochs_after_the_best():
    val = iter([5.0, 4.0, 4.5, 4.2, 4.1, 3.0])
    train_losses, val_losses = fit(lambda x, y: 1.0, [(0, 0)], epochs=6, lr=0.1,
                                   validate=lambda: next(val), patience=3)
    assert val_losses == [5.0, 4.0, 4.5, 4.2, 4.1] and len(train_losses) == 5


def test_fit_stops_on_a_non_finite_loss_naming_the_epoch():
    losses = iter([1.0, float("nan"), 0.5])
    with pytest.raises(DivergenceError, match="the loss became nan at epoch 2"):
        fit(lambda x, y: next(losses), [(0, 0)], epochs=3, lr=1)


def test_fit_refuses_batches_that_are_used_up_after_one_epoch():
    batches = iter([(0, 0), (1, 1)])
    with pytest.raises(ValueError, match="epoch 2 got no batch"):
        fit(lambda x, y: 1.0, batches, epochs=2, lr=0.1)


def test_validation_loss_is_lowest_early_and_early_stopping_stops_there(tensors):
    model, train_losses, val_losses = train_with_validation(*tensors, epochs=1000)
    best = val_losses.index(min(val_losses)) + 1
    assert 100 < best < 300 and val_losses[-1] > min(val_losses)
    _, stopped, _ = train_with_validation(*tensors, epochs=1000, patience=20)
    assert len(stopped) == best + 20
