"""Linear regression, y = a + b x, fitted six ways that must all agree.

The data is the reference recipe: 100 points of y = 1 + 2x + noise, 80 for
training and 20 for validation. Every stage is checked against the exact
least-squares solution computed with numpy.linalg.lstsq.

Run it:  python -m snippets.linear_regression [--device D] [--epochs N] [--lr LR] [--seed S]
"""

from __future__ import annotations

from collections.abc import Sequence

# --8<-- [start:numpy_imports]
import numpy as np
# --8<-- [end:numpy_imports]
# --8<-- [start:torch_imports]
import torch
from torch import nn, optim
# --8<-- [end:torch_imports]

# Pages embed these functions' own sections instead of importing them.
from snippets import cli
from snippets.device import get_device
from snippets.training import check_finite, check_shapes, fit, make_train_step, validation_loss


# --8<-- [start:data]
def make_data(seed: int = 42):
    """100 points of y = 1 + 2x + noise, split 80 (train) / 20 (validation)."""
    np.random.seed(seed)
    x = np.random.rand(100, 1)
    y = 1 + 2 * x + .1 * np.random.randn(100, 1)

    idx = np.arange(100)
    np.random.shuffle(idx)
    train_idx, val_idx = idx[:80], idx[80:]
    return x[train_idx], y[train_idx], x[val_idx], y[val_idx]
# --8<-- [end:data]


# --8<-- [start:tensors]
def regression_tensors(device: torch.device, seed: int = 42) -> list[torch.Tensor]:
    """make_data's four arrays as float32 tensors on ``device``:
    x_train, y_train, x_val, y_val."""
    return [torch.from_numpy(arr).float().to(device) for arr in make_data(seed)]
# --8<-- [end:tensors]


# --8<-- [start:least_squares]
def least_squares(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The exact minimiser of the MSE: solve [1, x] @ [a, b] = y in the least-squares sense."""
    X = np.hstack([np.ones_like(x), x])
    (a, b), *_ = np.linalg.lstsq(X, y[:, 0], rcond=None)
    return float(a), float(b)
# --8<-- [end:least_squares]


# --8<-- [start:numpy_gd]
def numpy_gradient_descent(x: np.ndarray, y: np.ndarray, lr: float = 0.1,
                           epochs: int = 1000, seed: int = 42,
                           path: list | None = None) -> tuple[float, float]:
    """Fit a and b by gradient descent, with gradients derived by hand.

    If a list is given as ``path``, (a, b) is appended to it before each step.
    """
    np.random.seed(seed)
    a = np.random.randn(1)
    b = np.random.randn(1)

    for epoch in range(1, epochs + 1):
        if path is not None:
            path.append((a.item(), b.item()))
        yhat = a + b * x
        error = yhat - y
        loss = (error ** 2).mean()
        check_finite(loss, epoch, lr)

        a_grad = 2 * error.mean()
        b_grad = 2 * (x * error).mean()

        a = a - lr * a_grad
        b = b - lr * b_grad
    return a.item(), b.item()
# --8<-- [end:numpy_gd]


# --8<-- [start:autograd]
def autograd_by_hand(x: torch.Tensor, y: torch.Tensor, lr: float = 0.1,
                     epochs: int = 1000, seed: int = 42) -> tuple[float, float]:
    """Let autograd compute the gradients; update the parameters ourselves."""
    torch.manual_seed(seed)
    a = torch.randn(1, requires_grad=True, dtype=torch.float, device=x.device)
    b = torch.randn(1, requires_grad=True, dtype=torch.float, device=x.device)

    for epoch in range(1, epochs + 1):
        yhat = a + b * x
        error = yhat - y
        loss = (error ** 2).mean()
        check_finite(loss, epoch, lr)

        loss.backward()
        with torch.no_grad():
            a -= lr * a.grad
            b -= lr * b.grad
        a.grad.zero_()
        b.grad.zero_()
    return a.item(), b.item()
# --8<-- [end:autograd]


# --8<-- [start:optimizer]
def with_optimizer(x: torch.Tensor, y: torch.Tensor, lr: float = 0.1,
                   epochs: int = 1000, seed: int = 42) -> tuple[float, float]:
    """optim.SGD does the update and the zeroing; nn.MSELoss computes the loss."""
    torch.manual_seed(seed)
    a = torch.randn(1, requires_grad=True, dtype=torch.float, device=x.device)
    b = torch.randn(1, requires_grad=True, dtype=torch.float, device=x.device)
    optimizer = optim.SGD([a, b], lr=lr)
    loss_fn = nn.MSELoss(reduction="mean")

    for epoch in range(1, epochs + 1):
        yhat = a + b * x
        loss = loss_fn(yhat, y)
        check_finite(loss, epoch, lr)

        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return a.item(), b.item()
# --8<-- [end:optimizer]


# --8<-- [start:module]
class ManualLinearRegression(nn.Module):
    """a and b as nn.Parameters: the module finds them for the optimizer."""

    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.randn(1, dtype=torch.float))
        self.b = nn.Parameter(torch.randn(1, dtype=torch.float))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a + self.b * x

    def coefficients(self) -> tuple[float, float]:
        return self.a.item(), self.b.item()
# --8<-- [end:module]


# --8<-- [start:linear]
class LayerLinearRegression(nn.Module):
    """The same model built from nn.Linear: bias is a, weight is b."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)

    def coefficients(self) -> tuple[float, float]:
        return self.linear.bias.item(), self.linear.weight.item()
# --8<-- [end:linear]


# --8<-- [start:train_model]
def train_model(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                lr: float = 0.1, epochs: int = 1000) -> list[float]:
    """Train any of the models above with make_train_step; return the loss history."""
    loss_fn = nn.MSELoss(reduction="mean")
    optimizer = optim.SGD(model.parameters(), lr=lr)
    train_step = make_train_step(model, loss_fn, optimizer)
    train_losses, _ = fit(train_step, [(x, y)], epochs, lr)
    return train_losses
# --8<-- [end:train_model]


# --8<-- [start:train_with_validation]
def train_with_validation(x_train: torch.Tensor, y_train: torch.Tensor,
                          x_val: torch.Tensor, y_val: torch.Tensor, lr: float = 0.1,
                          epochs: int = 1000, patience: int | None = None, seed: int = 42):
    """Train nn.Linear, measuring the validation loss after every epoch.

    Returns the model and the training and validation losses of each epoch.
    """
    torch.manual_seed(seed)
    model = LayerLinearRegression().to(x_train.device)
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=lr)
    train_step = make_train_step(model, loss_fn, optimizer)

    def validate() -> float:
        return validation_loss(model, loss_fn, x_val, y_val)

    train_losses, val_losses = fit(train_step, [(x_train, y_train)], epochs, lr,
                                   validate, patience)
    return model, train_losses, val_losses
# --8<-- [end:train_with_validation]


def run_stages(device: torch.device, epochs: int = 1000, lr: float = 0.1,
               seed: int = 42) -> tuple[dict[str, tuple[float, float]], float]:
    """Fit every stage; return {stage: (a, b)} and the validation MSE of nn.Linear."""
    x_train, y_train, x_val, y_val = make_data(seed)
    check_shapes(x_train, y_train)
    x_t, y_t, x_v, y_v = regression_tensors(device, seed)
    results = {
        "least squares (numpy.linalg.lstsq)": least_squares(x_train, y_train),
        "NumPy, gradients by hand": numpy_gradient_descent(x_train, y_train, lr, epochs, seed),
        "autograd, manual update": autograd_by_hand(x_t, y_t, lr, epochs, seed),
        "optim.SGD + nn.MSELoss": with_optimizer(x_t, y_t, lr, epochs, seed),
    }
    for name, model_class in [("nn.Module with nn.Parameter", ManualLinearRegression),
                              ("nn.Linear, make_train_step", LayerLinearRegression)]:
        torch.manual_seed(seed)
        model = model_class().to(device)
        train_model(model, x_t, y_t, lr, epochs)
        results[name] = model.coefficients()
    val_mse = validation_loss(model, nn.MSELoss(), x_v, y_v)
    return results, val_mse


PROG = "python -m snippets.linear_regression"


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.pipeline_parser("linear_regression", __doc__.splitlines()[0], epochs=1000, lr=0.1)
    args = parser.parse_args(argv)
    device = args.device or get_device()
    results, val_mse = run_stages(device, args.epochs, args.lr, args.seed)
    print(f"device: {device}, epochs: {args.epochs}, lr: {args.lr:g}, seed: {args.seed}")
    print(f"{'stage':<36}{'a':>8}{'b':>9}")
    for name, (a, b) in results.items():
        print(f"{name:<36}{a:>8.4f}{b:>9.4f}")
    print(f"validation MSE of the nn.Linear model: {val_mse:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, PROG))
