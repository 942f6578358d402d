"""Every figure of the site, drawn from live tensors when the site is built.

``FIGURES`` maps a file name to a function returning a matplotlib Figure;
hooks/figures.py renders each one to figures/<name>.svg. The figures use the
same functions as the pages, so a picture can never disagree with the code.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import torch  # noqa: E402

from snippets.device import get_device  # noqa: E402
from snippets.graph import graph_edges  # noqa: E402
from snippets.linear_regression import make_data, train_with_validation  # noqa: E402
from snippets.optimizers import OPTIMIZERS, loss_history  # noqa: E402

LEAF, OPERATION, OUTPUT = "#bbdefb", "#eeeeee", "#ffccbc"


def regression_tensors(seed: int = 42) -> list[torch.Tensor]:
    device = get_device()
    return [torch.from_numpy(arr).float().to(device) for arr in make_data(seed)]


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
    x_train, y_train, _, _ = regression_tensors()
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
    x_train, _, _, _ = regression_tensors()
    torch.manual_seed(42)
    a_nongrad = torch.randn(1, requires_grad=False, dtype=torch.float, device=x_train.device)
    b = torch.randn(1, requires_grad=True, dtype=torch.float, device=x_train.device)
    yhat = a_nongrad + b * x_train
    return draw_graph(graph_edges(yhat, {"b": b}), "yhat", {"b"})


def optimizer_curves() -> plt.Figure:
    x_train, y_train, _, _ = regression_tensors()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, make_optimizer in OPTIMIZERS.items():
        ax.plot(range(1, 101), loss_history(make_optimizer, x_train, y_train), label=name)
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="training MSE (log scale)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def training_curves() -> plt.Figure:
    """Training and validation loss of nn.Linear, and where early stopping stops."""
    tensors = regression_tensors()
    _, train_losses, val_losses = train_with_validation(*tensors, epochs=1000)
    _, stopped, _ = train_with_validation(*tensors, epochs=1000, patience=20)
    best = val_losses.index(min(val_losses)) + 1
    fig, ax = plt.subplots(figsize=(7, 4))
    epochs = range(1, len(train_losses) + 1)
    ax.plot(epochs, train_losses, label="training loss")
    ax.plot(epochs, val_losses, label="validation loss")
    ax.axvline(best, color="#999", linestyle=":", label=f"lowest validation loss (epoch {best})")
    ax.axvline(len(stopped), color="#d84315", linestyle="--",
               label=f"early stop, patience 20 (epoch {len(stopped)})")
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="MSE (log scale)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


FIGURES: dict[str, Callable[[], plt.Figure]] = {
    "graph-yhat": lambda: regression_graph("yhat"),
    "graph-error": lambda: regression_graph("error"),
    "graph-loss": lambda: regression_graph("loss"),
    "graph-nongrad": nongrad_graph,
    "optimizer-curves": optimizer_curves,
    "training-curves": training_curves,
}
