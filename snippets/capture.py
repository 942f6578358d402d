"""Graph capture: what torch.compile and torch.export record of the regression.

The sections below are embedded in the graph-capture chapter. The rest of the
module measures, once, how much faster a compiled training step runs than
the eager one, for a given number of points.

Run it:  python -m snippets.capture [--points N] [--steps S] [--backend B]
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

# --8<-- [start:imports]
from collections.abc import Callable

import torch
from functorch.compile import default_partition, make_boxed_func
from torch import nn
from torch._dynamo.backends.common import aot_autograd
# --8<-- [end:imports]

from snippets import cli
from snippets.linear_regression import LayerLinearRegression


# --8<-- [start:train_step]
def train_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Forward pass, loss and backward pass: the gradients land in each parameter's .grad."""
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    return loss
# --8<-- [end:train_step]


# --8<-- [start:op_names]
def op_name(node: torch.fx.Node) -> str | None:
    """The short name of what a graph node calls; None for inputs, outputs and constants."""
    if node.op == "call_method":
        return node.target
    if node.op == "call_function":
        return node.target.__name__.split(".")[0]
    return None


def op_names(graph_module: torch.fx.GraphModule) -> list[str]:
    """The operations a captured graph calls, in order, by their short names."""
    return [name for node in graph_module.graph.nodes if (name := op_name(node)) is not None]
# --8<-- [end:op_names]


# --8<-- [start:recorder]
class GraphRecorder:
    """A torch.compile backend that runs each graph as AOTAutograd makes it, and
    keeps the op names of every graph it sees on the way.

    ``dynamo`` holds one list per graph that dynamo captured; ``joint``,
    ``forward`` and ``backward`` the graphs that AOTAutograd traced from the
    last one and split in two.
    """

    def __init__(self) -> None:
        self.dynamo: list[list[str]] = []
        self.joint: list[str] = []
        self.forward: list[str] = []
        self.backward: list[str] = []
        self.joint_module: torch.fx.GraphModule | None = None
        self.aot = aot_autograd(fw_compiler=self.keep("forward"),
                                bw_compiler=self.keep("backward"),
                                partition_fn=self.partition)

    def __call__(self, graph_module: torch.fx.GraphModule, example_inputs: list) -> Callable:
        """Note the op names of a graph that dynamo captured, and hand it to AOTAutograd."""
        self.dynamo.append(op_names(graph_module))
        return self.aot(graph_module, example_inputs)

    def keep(self, kind: str) -> Callable:
        """A compiler for AOTAutograd that notes the op names of its graph as ``kind``."""
        def compiler(graph_module: torch.fx.GraphModule, example_inputs: list) -> Callable:
            setattr(self, kind, op_names(graph_module))
            return make_boxed_func(graph_module.forward)
        return compiler

    def partition(self, joint_module: torch.fx.GraphModule, joint_inputs: list,
                  **kwargs) -> tuple[torch.fx.GraphModule, torch.fx.GraphModule]:
        """Keep the joint graph, then split it as AOTAutograd does by default."""
        self.joint = op_names(joint_module)
        self.joint_module = joint_module
        return default_partition(joint_module, joint_inputs, **kwargs)
# --8<-- [end:recorder]


def synchronize(device: torch.device) -> None:
    """Wait until ``device`` has run every kernel queued on it. CUDA and MPS queue
    kernels and return at once, so a clock read without this measures the queueing."""
    if device.type != "cpu":
        torch.accelerator.synchronize(device)


def timed_step(step: Callable, model: nn.Module, optimizer: torch.optim.Optimizer,
               x: torch.Tensor, y: torch.Tensor) -> float:
    """Wall time of one training step: the step, the SGD update and the zeroing of the
    gradients, from an idle device until the device has finished them."""
    synchronize(x.device)
    start = time.perf_counter()
    step(model, x, y)
    optimizer.step()
    optimizer.zero_grad()
    synchronize(x.device)
    return time.perf_counter() - start


def compare_speed(points: int, steps: int = 30, backend: str = "inductor",
                  device: torch.device | str = "cpu", seed: int = 42,
                  lr: float = 0.1, block: int = 10) -> dict[str, float]:
    """Time the regression's training step on ``points`` points, eager and compiled.

    After the first compiled step, which compiles, eager and compiled steps
    take turns, ``block`` timed steps at a time, each turn opened by one
    untimed step, until each has ``steps`` timed steps: a change in the load
    of the machine falls on both. Returns the median seconds per step of
    each, their ratio (eager / compiled, above 1 when compiling pays), and
    the seconds the first compiled step took.
    """
    if points < 1:
        raise ValueError(f"points must be positive, got {points}")
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    torch.manual_seed(seed)
    x = torch.rand(points, 1, device=device)
    y = 1 + 2 * x + 0.1 * torch.randn(points, 1, device=device)
    torch._dynamo.reset()
    runs = []
    for step in (train_step, torch.compile(train_step, backend=backend)):
        model = LayerLinearRegression().to(device)
        runs.append((step, model, torch.optim.SGD(model.parameters(), lr=lr), []))
    first_call = timed_step(*runs[1][:3], x, y)
    for done in range(0, steps, block):
        for step, model, optimizer, times in runs:
            timed_step(step, model, optimizer, x, y)
            times += [timed_step(step, model, optimizer, x, y)
                      for _ in range(min(block, steps - done))]
    eager, compiled = (statistics.median(times) for *_, times in runs)
    return {"eager": eager, "compiled": compiled, "ratio": eager / compiled,
            "first_call": first_call}


PROG = "python -m snippets.capture"


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=cli.positive_int, nargs="+", default=[80, 1_000_000],
                        help="sizes of the data to time (default: 80 1000000)")
    parser.add_argument("--steps", type=cli.positive_int, default=30,
                        help="timed steps per measurement (default: 30)")
    parser.add_argument("--backend", choices=["inductor", "aot_eager", "eager"],
                        default="inductor", help="torch.compile backend (default: inductor)")
    parser.add_argument("--device", type=cli.device_arg, default=torch.device("cpu"),
                        help="cpu, cuda, cuda:N or mps (default: cpu)")
    args = parser.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"device {args.device}, backend {args.backend}")
    for points in args.points:
        r = compare_speed(points, args.steps, args.backend, args.device)
        print(f"{points:>10} points: eager {r['eager'] * 1e3:.3f} ms, compiled "
              f"{r['compiled'] * 1e3:.3f} ms per step, eager / compiled {r['ratio']:.2f}, "
              f"first call {r['first_call']:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, PROG))
