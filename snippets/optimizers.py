"""The same regression trained with different optimizers, for comparison."""

from __future__ import annotations

import torch
from torch import nn, optim

from snippets.linear_regression import LayerLinearRegression
from snippets.training import fit, make_train_step

# --8<-- [start:compare]
OPTIMIZERS = {
    "SGD": lambda params: optim.SGD(params, lr=0.1),
    "SGD with momentum": lambda params: optim.SGD(params, lr=0.1, momentum=0.9),
    "Adam": lambda params: optim.Adam(params, lr=0.1),
}


def loss_history(make_optimizer, x: torch.Tensor, y: torch.Tensor,
                 epochs: int = 100, seed: int = 42) -> list[float]:
    """Train a fresh nn.Linear regression with this optimizer; return its losses."""
    torch.manual_seed(seed)
    model = LayerLinearRegression().to(x.device)
    optimizer = make_optimizer(model.parameters())
    train_step = make_train_step(model, nn.MSELoss(), optimizer)
    train_losses, _ = fit(train_step, [(x, y)], epochs, optimizer.defaults["lr"])
    return train_losses
# --8<-- [end:compare]
