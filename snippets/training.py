"""The pieces of a training loop that both pipelines share."""

from __future__ import annotations

# --8<-- [start:imports]
from collections.abc import Callable, Iterable

import torch
from torch import nn
# --8<-- [end:imports]


# --8<-- [start:check_finite]
import math


class DivergenceError(ArithmeticError):
    """The loss stopped being a finite number."""


def check_finite(loss, epoch: int, lr: float) -> None:
    """Stop as soon as the loss is NaN or infinite: training has diverged."""
    value = loss.item() if hasattr(loss, "item") else float(loss)
    if not math.isfinite(value):
        raise DivergenceError(
            f"the loss became {value} at epoch {epoch}: learning rate {lr:g} "
            "is too large for this problem; try a smaller one"
        )
# --8<-- [end:check_finite]


# --8<-- [start:check_shapes]
class ShapeError(ValueError):
    """A prediction and its target have different shapes."""


def check_shapes(prediction, target) -> None:
    """Refuse to compare tensors of different shapes.

    (100,) against (100, 1) would broadcast to (100, 100) squared errors: a
    hand-written loss says nothing, and nn.MSELoss only warns.
    """
    if tuple(prediction.shape) != tuple(target.shape):
        raise ShapeError(
            f"prediction has shape {tuple(prediction.shape)} but target has shape "
            f"{tuple(target.shape)}; they must be equal"
        )
# --8<-- [end:check_shapes]


# --8<-- [start:train_step]
def make_train_step(model: nn.Module, loss_fn, optimizer) -> Callable:
    """Return a function that performs one step of training on a batch."""

    def train_step(x: torch.Tensor, y: torch.Tensor) -> float:
        model.train()
        yhat = model(x)
        check_shapes(yhat, y)
        loss = loss_fn(yhat, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss.item()

    return train_step
# --8<-- [end:train_step]


# --8<-- [start:validation_loss]
def validation_loss(model: nn.Module, loss_fn, x: torch.Tensor, y: torch.Tensor) -> float:
    """The loss on data the model does not learn from: no graph, eval mode."""
    model.eval()
    with torch.no_grad():
        return loss_fn(model(x), y).item()
# --8<-- [end:validation_loss]


# --8<-- [start:fit]
def fit(train_step: Callable, batches: Iterable, epochs: int, lr: float,
        validate: Callable[[], float] | None = None, patience: int | None = None,
        log_every: int | None = None) -> tuple[list[float], list[float]]:
    """Train for up to ``epochs`` passes over ``batches``, an iterable read anew every epoch.

    Returns the mean training loss of each epoch and, if ``validate`` is
    given, the validation loss after each epoch. With ``patience``, training
    stops once the validation loss has not improved for that many epochs.
    With ``log_every``, the loss is printed every that many epochs.
    """
    train_losses: list[float] = []
    val_losses: list[float] = []
    best, waited = math.inf, 0
    for epoch in range(1, epochs + 1):
        losses = [train_step(x, y) for x, y in batches]
        if not losses:
            raise ValueError(f"epoch {epoch} got no batch: batches must give its batches "
                             "again on every pass (a list, a DataLoader), not once (a generator)")
        train_losses.append(sum(losses) / len(losses))
        check_finite(train_losses[-1], epoch, lr)
        if log_every and epoch % log_every == 0:
            print(f"Epoch [{epoch}/{epochs}], Loss: {train_losses[-1]:.2f}")
        if validate is None:
            continue
        val_losses.append(validate())
        if val_losses[-1] < best:
            best, waited = val_losses[-1], 0
        else:
            waited += 1
            if patience is not None and waited >= patience:
                break
    return train_losses, val_losses
# --8<-- [end:fit]
