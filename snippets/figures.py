"""Every figure of the site, drawn from live tensors when the site is built.

``FIGURES`` maps a file name to a function returning a matplotlib Figure;
hooks/figures.py renders each one to figures/<name>.svg. The figures use the
same functions as the pages, so a picture can never disagree with the code.
The ``plot_*`` functions only draw; the notebooks embed their sections, so a
downloaded notebook draws its figures with nothing but matplotlib.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

# --8<-- [start:plot_imports]
import matplotlib.pyplot as plt
# --8<-- [end:plot_imports]
import networkx as nx
import numpy as np
import torch

from snippets import crop_yield
from snippets.device import get_device
from snippets.graph import graph_edges
from snippets.linear_regression import (
    least_squares, make_data, numpy_gradient_descent, regression_tensors, train_with_validation)
from snippets.figure_text import TRANSLATORS, english as tr
from snippets.optimizers import OPTIMIZERS, loss_history

LEAF, OPERATION, OUTPUT = "#bbdefb", "#eeeeee", "#ffccbc"


def draw_graph(edges: list[tuple[str, str]], output: str, leaves: set[str]) -> plt.Figure:
    """Lay the graph out in layers, inputs on top and ``output`` at the bottom."""
    graph = nx.DiGraph(edges)
    root = next(node for node in graph if graph.out_degree(node) == 0)
    graph.add_edge(root, output)
    layers = list(nx.topological_generations(graph))
    # Leaves join the layer just above the operation that uses them.
    depth = {node: i for i, layer in enumerate(layers) for node in layer}
    for node in graph:
        if node in leaves:
            depth[node] = min(depth[succ] for succ in graph.successors(node)) - 1
    rows: dict[int, list[str]] = {}
    for node in sorted(graph, key=lambda n: (depth[n], n)):
        rows.setdefault(depth[node], []).append(node)
    pos = {node: (i - (len(row) - 1) / 2, -level)
           for level, row in rows.items() for i, node in enumerate(row)}
    width = max(len(row) for row in rows.values())
    fig, ax = plt.subplots(figsize=(1.9 * width + 1.5, 0.9 * len(rows) + 0.4))
    for start, end in graph.edges:
        ax.annotate("", xy=pos[end], xytext=pos[start],
                    arrowprops=dict(arrowstyle="-|>", color="#555", shrinkA=14, shrinkB=14))
    for node, (x, y) in pos.items():
        colour = LEAF if node in leaves else OUTPUT if node == output else OPERATION
        ax.text(x, y, node, ha="center", va="center", fontsize=10, family="monospace",
                bbox=dict(boxstyle="round,pad=0.4", facecolor=colour, edgecolor="#777"))
    ax.set_xlim(-width / 2 - 0.2, width / 2 + 0.2)
    ax.set_ylim(-len(rows) + 0.5, 0.5)
    ax.axis("off")
    fig.tight_layout(pad=0.1)
    return fig


def regression_graph(which: str) -> plt.Figure:
    """The graph behind yhat, error or loss of the regression (a, b need gradients)."""
    x_train, y_train, _, _ = regression_tensors(get_device())
    torch.manual_seed(42)
    a = torch.randn(1, requires_grad=True, dtype=torch.float, device=x_train.device)
    b = torch.randn(1, requires_grad=True, dtype=torch.float, device=x_train.device)
    yhat = a + b * x_train
    error = yhat - y_train
    loss = (error ** 2).mean()
    tensor = {"yhat": yhat, "error": error, "loss": loss}[which]
    return draw_graph(graph_edges(tensor, {"a": a, "b": b}), which, {"a", "b"})


def nongrad_graph() -> plt.Figure:
    """yhat when the intercept does not require gradients: it leaves the graph."""
    x_train, _, _, _ = regression_tensors(get_device())
    torch.manual_seed(42)
    a_nongrad = torch.randn(1, requires_grad=False, dtype=torch.float, device=x_train.device)
    b = torch.randn(1, requires_grad=True, dtype=torch.float, device=x_train.device)
    yhat = a_nongrad + b * x_train
    return draw_graph(graph_edges(yhat, {"b": b}), "yhat", {"b"})


# --8<-- [start:loss_plot]
def loss_plot(curves: dict[str, list[float]], ylabel: str = "training MSE (log scale)"):
    """Loss curves by epoch on a log scale; returns the figure and its axes."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, losses in curves.items():
        ax.plot(range(1, len(losses) + 1), losses, label=tr(label))
    ax.set_yscale("log")
    ax.set(xlabel=tr("epoch"), ylabel=tr(ylabel))
    ax.grid(alpha=0.3)
    return fig, ax


def finish(fig, ax):
    ax.legend()
    fig.tight_layout()
    return fig
# --8<-- [end:loss_plot]


# --8<-- [start:regression_fit]
def plot_regression_fit(x_train, y_train, x_val, y_val, a: float, b: float):
    """The data of the regression, the true line and the fitted line y = a + b x.
    Every label goes through ``tr``, the translation function of the page's language."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(x_train, y_train, s=14, label=tr("training points ({n})").format(n=len(x_train)))
    ax.scatter(x_val, y_val, s=14, marker="s",
               label=tr("validation points ({n})").format(n=len(x_val)))
    line = np.array([0, 1])
    ax.plot(line, 1 + 2 * line, color="#777", linestyle=":", label=tr("y = 1 + 2x (true line)"))
    ax.plot(line, a + b * line, color="#d84315",
            label=tr("fitted: y = {a:.4f} + {b:.4f}x").format(a=a, b=b))
    ax.set(xlabel=tr("x"), ylabel=tr("y"))
    ax.legend()
    fig.tight_layout()
    return fig
# --8<-- [end:regression_fit]


# --8<-- [start:descent_path]
def plot_descent_path(x_train, y_train, path: list[tuple[float, float]],
                      a_exact: float, b_exact: float, lr: float = 0.1):
    """The path of gradient descent's (a, b) over the contours of the training MSE."""
    a_grid, b_grid = np.meshgrid(np.linspace(-0.5, 2.5, 121), np.linspace(-0.5, 3.5, 121))
    residuals = a_grid[..., None] + b_grid[..., None] * x_train[:, 0] - y_train[:, 0]
    mse = (residuals ** 2).mean(axis=-1)
    fig, ax = plt.subplots(figsize=(6, 5))
    contours = ax.contour(a_grid, b_grid, mse, levels=np.geomspace(0.01, 6, 12), cmap="viridis")
    ax.clabel(contours, fontsize=7, fmt="%.2g")
    a_path, b_path = np.array(path).T
    ax.plot(a_path, b_path, color="#d84315", marker=".", markersize=3, linewidth=1,
            label=tr("gradient descent, lr {lr:g}").format(lr=lr))
    ax.plot(*path[0], "o", color="#d84315", label=tr("random start"))
    ax.plot(a_exact, b_exact, "*", color="black", markersize=12, label=tr("least squares"))
    ax.set(xlabel=tr("a (intercept)"), ylabel=tr("b (slope)"))
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig
# --8<-- [end:descent_path]


# --8<-- [start:training_curves]
def plot_training_curves(train_losses: list[float], val_losses: list[float], stopped: int,
                         patience: int):
    """Training and validation loss, the lowest validation loss and the early stop."""
    best = val_losses.index(min(val_losses)) + 1
    fig, ax = loss_plot({"training loss": train_losses, "validation loss": val_losses},
                        ylabel="MSE (log scale)")
    ax.axvline(best, color="#999", linestyle=":",
               label=tr("lowest validation loss (epoch {epoch})").format(epoch=best))
    ax.axvline(stopped, color="#d84315", linestyle="--",
               label=tr("early stop, patience {patience} (epoch {epoch})").format(
                   patience=patience, epoch=stopped))
    return finish(fig, ax)
# --8<-- [end:training_curves]


# --8<-- [start:crop_losses]
def plot_crop_losses(curves: dict[str, list[float]], optimum: float):
    """Training loss curves of the crop models, and the least-squares optimum."""
    fig, ax = loss_plot(curves)
    ax.axhline(optimum, color="black", linestyle=":",
               label=tr("least-squares optimum ({optimum:.3f})").format(optimum=optimum))
    return finish(fig, ax)
# --8<-- [end:crop_losses]


# --8<-- [start:crop_predictions]
def plot_crop_predictions(actual: torch.Tensor, predictions: dict[str, torch.Tensor]):
    """Predicted against actual yields, one panel per model."""
    actual = actual.cpu()
    fig, axes = plt.subplots(1, len(predictions), figsize=(9, 4.2), sharex=True, sharey=True)
    for ax, (title, predicted) in zip(axes, predictions.items()):
        predicted = predicted.detach().cpu()
        for column, (fruit, marker) in enumerate([("apples", "o"), ("oranges", "s")]):
            ax.scatter(actual[:, column], predicted[:, column], marker=marker, s=22,
                       label=tr(fruit))
        ax.plot([15, 140], [15, 140], color="#777", linestyle=":", label=tr("perfect prediction"))
        ax.set(title=tr(title), xlabel=tr("actual yield (t/ha)"))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(tr("predicted yield (t/ha)"))
    axes[0].legend()
    fig.tight_layout()
    return fig
# --8<-- [end:crop_predictions]


# The registry: what the site draws, from the same functions the pages run.

def optimizer_curves() -> plt.Figure:
    x_train, y_train, _, _ = regression_tensors(get_device())
    fig, ax = loss_plot({name: loss_history(make_optimizer, x_train, y_train)
                         for name, make_optimizer in OPTIMIZERS.items()})
    return finish(fig, ax)


def training_curves(patience: int = 20) -> plt.Figure:
    tensors = regression_tensors(get_device())
    _, train_losses, val_losses = train_with_validation(*tensors, epochs=1000)
    _, stopped, _ = train_with_validation(*tensors, epochs=1000, patience=patience)
    return plot_training_curves(train_losses, val_losses, len(stopped), patience)


def regression_fit() -> plt.Figure:
    x_train, y_train, x_val, y_val = make_data()
    return plot_regression_fit(x_train, y_train, x_val, y_val, *least_squares(x_train, y_train))


def descent_path() -> plt.Figure:
    x_train, y_train, _, _ = make_data()
    path: list[tuple[float, float]] = []
    numpy_gradient_descent(x_train, y_train, lr=0.1, epochs=1000, path=path)
    return plot_descent_path(x_train, y_train, path, *least_squares(x_train, y_train))


@cache
def crop_models():
    """The data and the two nn.Linear crop models both crop figures show, trained once:
    on raw inputs (lr 1e-5) and on standardized ones, with their loss histories."""
    inputs, targets = crop_yield.crop_tensors(15, get_device())
    scale = crop_yield.standardizer(inputs)
    raw = crop_yield.train_linear(crop_yield.make_loader(inputs, targets), 100, 1e-5)
    scaled = crop_yield.train_linear(crop_yield.make_loader(scale(inputs), targets),
                                     crop_yield.STANDARDIZED_EPOCHS, crop_yield.STANDARDIZED_LR)
    return inputs, targets, scale, raw, scaled


def crop_losses() -> plt.Figure:
    inputs, targets, _, (_, raw), (_, standardized) = crop_models()
    return plot_crop_losses(
        {"raw inputs, lr 1e-5": raw,
         f"standardized inputs, lr {crop_yield.STANDARDIZED_LR:g}": standardized},
        crop_yield.least_squares_mse(inputs, targets))


def crop_predictions() -> plt.Figure:
    inputs, targets, scale, (raw, _), (scaled, _) = crop_models()
    return plot_crop_predictions(targets, {"raw inputs, lr 1e-5, 100 epochs": raw(inputs),
                                           "standardized inputs": scaled(scale(inputs))})


def draw(name: str, language: str) -> plt.Figure:
    """Draw figure ``name`` with its labels in ``language`` ("en" or "zh")."""
    global tr
    tr = TRANSLATORS[language]
    try:
        return FIGURES[name]()
    finally:
        tr = TRANSLATORS["en"]


FIGURES: dict[str, Callable[[], plt.Figure]] = {
    "graph-yhat": lambda: regression_graph("yhat"),
    "graph-error": lambda: regression_graph("error"),
    "graph-loss": lambda: regression_graph("loss"),
    "graph-nongrad": nongrad_graph,
    "optimizer-curves": optimizer_curves,
    "training-curves": training_curves,
    "regression-fit": regression_fit,
    "descent-path": descent_path,
    "crop-losses": crop_losses,
    "crop-predictions": crop_predictions,
}
