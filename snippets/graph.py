"""Walk the computational graph that autograd recorded behind a tensor."""

from __future__ import annotations

import torch

# --8<-- [start:walk]
def graph_edges(output: torch.Tensor, names: dict[str, torch.Tensor]) -> list[tuple[str, str]]:
    """The edges (input -> operation) of the graph behind ``output``, from the output back.

    Operations are named by their grad_fn class; leaf tensors, which appear as
    AccumulateGrad nodes, by their key in ``names`` (or "leaf" if not there).
    """
    def label(fn) -> str:
        if type(fn).__name__ == "AccumulateGrad":
            return next((key for key, t in names.items() if t is fn.variable), "leaf")
        return type(fn).__name__

    edges, seen, todo = [], set(), [output.grad_fn]
    while todo:
        fn = todo.pop(0)
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        for child, _ in fn.next_functions:
            if child is not None:
                edges.append((label(child), label(fn)))
                todo.append(child)
    return edges
# --8<-- [end:walk]
