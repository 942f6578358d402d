"""Crop yields: predict apple and orange yields from a region's weather.

A linear model maps temperature (F), rainfall (mm) and humidity (%) to the
yields of apples and oranges (tons per hectare). It is trained from scratch,
then with PyTorch's data loading and nn.Linear, then on standardized inputs,
and every model is compared with the exact least-squares optimum.

Run it:  python -m snippets.crop_yield [--device D] [--epochs N] [--lr LR] [--batch-size B] [--seed S]
"""

from __future__ import annotations

from collections.abc import Sequence

# --8<-- [start:imports]
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, random_split
# --8<-- [end:imports]

# Pages embed these functions' own sections instead of importing them.
from snippets import cli
from snippets.device import get_device
from snippets.training import check_finite, fit, make_train_step

# --8<-- [start:data]
INPUTS = [[73, 67, 43], [91, 88, 64], [87, 134, 58], [102, 43, 37], [69, 96, 70],
          [74, 66, 43], [91, 87, 65], [88, 134, 59], [101, 44, 37], [68, 96, 71],
          [73, 66, 44], [92, 87, 64], [87, 135, 57], [103, 43, 36], [68, 97, 70]]
TARGETS = [[56, 70], [81, 101], [119, 133], [22, 37], [103, 119],
           [57, 69], [80, 102], [118, 132], [21, 38], [104, 118],
           [57, 69], [82, 100], [118, 134], [20, 38], [102, 120]]
NEW_REGION = [[75, 63, 44]]


def crop_tensors(regions: int = 15, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``regions`` rows of the data as float32 tensors on ``device``."""
    inputs = torch.tensor(INPUTS[:regions], dtype=torch.float32, device=device)
    targets = torch.tensor(TARGETS[:regions], dtype=torch.float32, device=device)
    return inputs, targets
# --8<-- [end:data]


# --8<-- [start:scratch_model]
def model(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return x @ w.t() + b


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    diff = pred - target
    return torch.sum(diff * diff) / diff.numel()
# --8<-- [end:scratch_model]


# --8<-- [start:scratch_fit]
def fit_from_scratch(inputs: torch.Tensor, targets: torch.Tensor, epochs: int = 100,
                     lr: float = 1e-5, seed: int = 42):
    """Gradient descent on w (2x3) and b (2) with the gradients from autograd.

    w and b are drawn on the CPU, then moved: the same start on every device."""
    torch.manual_seed(seed)
    w = torch.randn(2, 3).to(inputs.device).requires_grad_()
    b = torch.randn(2).to(inputs.device).requires_grad_()
    for epoch in range(1, epochs + 1):
        loss = mse(model(inputs, w, b), targets)
        check_finite(loss, epoch, lr)
        loss.backward()
        with torch.no_grad():
            w -= w.grad * lr
            b -= b.grad * lr
            w.grad.zero_()
            b.grad.zero_()
    return w, b
# --8<-- [end:scratch_fit]


# --8<-- [start:loader]
def make_loader(inputs: torch.Tensor, targets: torch.Tensor, batch_size: int = 5,
                seed: int = 42) -> DataLoader:
    """Shuffled mini-batches, in the same order on every run and every device."""
    dataset = TensorDataset(inputs, targets)
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator)
# --8<-- [end:loader]


# --8<-- [start:train_linear]
def train_linear(loader: DataLoader, epochs: int = 100, lr: float = 1e-5, seed: int = 42,
                 log_every: int | None = None) -> tuple[nn.Linear, list[float]]:
    """nn.Linear(3, 2), F.mse_loss and SGD, trained with the shared fit()."""
    device = loader.dataset[0][0].device
    torch.manual_seed(seed)
    linear = nn.Linear(3, 2).to(device)
    optimizer = torch.optim.SGD(linear.parameters(), lr=lr)
    train_step = make_train_step(linear, F.mse_loss, optimizer)
    losses, _ = fit(train_step, loader, epochs, lr, log_every=log_every)
    return linear, losses
# --8<-- [end:train_linear]


# --8<-- [start:optimum]
def least_squares_mse(inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """The lowest MSE any linear model can reach on this data, in float64, on
    the CPU (Apple's MPS has no float64)."""
    inputs, targets = inputs.cpu(), targets.cpu()
    X = torch.cat([inputs, torch.ones(len(inputs), 1)], dim=1).double()
    solution = torch.linalg.lstsq(X, targets.double()).solution
    return F.mse_loss(X @ solution, targets.double()).item()


def gap(loss: float, optimum: float) -> str:
    """How far a loss is above the optimum, in percent: whole percents from
    100 % up, where float32's last digits would change the decimals, and
    two digits with an exponent from a million percent up, to fit a column."""
    percent = 100 * (loss / optimum - 1)
    if percent >= 1e6:
        return f"{percent:.1e}%"
    return f"{percent:.0f}%" if percent >= 100 else f"{percent:.2f}%"
# --8<-- [end:optimum]


# --8<-- [start:standardize]
STANDARDIZED_LR, STANDARDIZED_EPOCHS = 0.1, 100


def standardizer(inputs: torch.Tensor):
    """A function that maps inputs to zero mean and unit variance per column,
    with the mean and standard deviation of ``inputs`` (the training data)."""
    mean, std = inputs.mean(dim=0), inputs.std(dim=0)
    return lambda x: (x - mean) / std
# --8<-- [end:standardize]


# --8<-- [start:split]
def split(inputs: torch.Tensor, targets: torch.Tensor, val_size: int, seed: int = 42):
    """Random training and validation subsets, the same on every run."""
    dataset = TensorDataset(inputs, targets)
    generator = torch.Generator().manual_seed(seed)
    return random_split(dataset, [len(dataset) - val_size, val_size], generator=generator)
# --8<-- [end:split]


# --8<-- [start:validation]
def train_and_validate(inputs: torch.Tensor, targets: torch.Tensor, val_size: int = 3,
                       epochs: int = STANDARDIZED_EPOCHS, lr: float = STANDARDIZED_LR,
                       batch_size: int = 5, seed: int = 42) -> tuple[float, float]:
    """Hold ``val_size`` regions out, standardize with the statistics of the rest,
    train on the rest; return the training and the validation MSE."""
    train_set, val_set = split(inputs, targets, val_size, seed)
    x_train, y_train = inputs[train_set.indices], targets[train_set.indices]
    x_val, y_val = inputs[val_set.indices], targets[val_set.indices]
    scale = standardizer(x_train)
    linear, _ = train_linear(make_loader(scale(x_train), y_train, batch_size, seed),
                             epochs, lr, seed)
    with torch.no_grad():
        return (F.mse_loss(linear(scale(x_train)), y_train).item(),
                F.mse_loss(linear(scale(x_val)), y_val).item())
# --8<-- [end:validation]


def evaluate(predict, inputs: torch.Tensor, targets: torch.Tensor) -> tuple[float, list[float]]:
    """MSE of ``predict`` on the data, and its prediction for the new region."""
    with torch.no_grad():
        loss = F.mse_loss(predict(inputs), targets).item()
        new = predict(torch.tensor(NEW_REGION, dtype=torch.float32, device=inputs.device))
    return loss, new[0].tolist()


def run_stages(device: torch.device, epochs: int = 100, lr: float = 1e-5,
               batch_size: int = 5, seed: int = 42) -> list[tuple[str, int, float, float, list]]:
    """Every stage: (name, regions, MSE, least-squares optimum, prediction for NEW_REGION)."""
    rows = []
    inputs5, targets5 = crop_tensors(5, device)
    w, b = fit_from_scratch(inputs5, targets5, epochs, lr, seed)
    rows.append(("from scratch", 5, *evaluate(lambda x: model(x, w, b), inputs5, targets5)))

    inputs, targets = crop_tensors(15, device)
    linear, _ = train_linear(make_loader(inputs, targets, batch_size, seed), epochs, lr, seed)
    rows.append(("nn.Linear + DataLoader", 15, *evaluate(linear, inputs, targets)))

    scale = standardizer(inputs)
    loader = make_loader(scale(inputs), targets, batch_size, seed)
    scaled, _ = train_linear(loader, STANDARDIZED_EPOCHS, STANDARDIZED_LR, seed)
    rows.append((f"standardized, lr {STANDARDIZED_LR:g}, {STANDARDIZED_EPOCHS} epochs", 15,
                 *evaluate(lambda x: scaled(scale(x)), inputs, targets)))
    optimum = {5: least_squares_mse(inputs5, targets5), 15: least_squares_mse(inputs, targets)}
    return [(name, n, loss, optimum[n], new) for name, n, loss, new in rows]


PROG = "python -m snippets.crop_yield"


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.pipeline_parser("crop_yield", __doc__.splitlines()[0], epochs=100, lr=1e-5)
    parser.add_argument("--batch-size", type=cli.positive_int, default=5,
                        help="regions per mini-batch (default: 5)")
    args = parser.parse_args(argv)
    device = args.device or get_device()
    rows = run_stages(device, args.epochs, args.lr, args.batch_size, args.seed)
    print(f"device: {device}, epochs: {args.epochs}, lr: {args.lr:g}, "
          f"batch size: {args.batch_size}, seed: {args.seed}")
    print(f"{'stage':<38}{'regions':>8}{'MSE':>10}{'optimum':>9}{'gap':>10}"
          f"   prediction for {NEW_REGION[0]}")
    for name, regions, loss, optimum, (apples, oranges) in rows:
        print(f"{name:<38}{regions:>8}{loss:>10.4g}{optimum:>9.4f}{gap(loss, optimum):>10}"
              f"   apples {apples:6.2f}, oranges {oranges:6.2f}")
    train_mse, val_mse = train_and_validate(*crop_tensors(15, device), val_size=3,
                                            batch_size=args.batch_size, seed=args.seed)
    print(f"standardized, trained on 12 regions: training MSE {train_mse:.4f}, "
          f"validation MSE on the other 3: {val_mse:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, PROG))
