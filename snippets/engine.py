"""A reverse-mode automatic differentiation engine for scalars, small enough to read at once.

A ``Value`` holds a number, the gradient that ``backward()`` leaves in it, the
values it was computed from and a closure that passes its gradient on to
them. The page "Autograd from scratch" builds it section by section, and
tests/test_engine.py checks it against torch.autograd on random expressions.

Run it:  python -m snippets.engine [--x X ...]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

# --8<-- [start:value]
from collections.abc import Callable, Iterable


class Value:
    """A number that remembers the values it was computed from."""

    def __init__(self, data: float, parents: tuple = (), op: str = ""):
        self.data = float(data)
        self.grad = 0.0
        self.parents = parents
        self.op = op
        self.backward_fn: Callable[[], None] = lambda: None

    def __repr__(self) -> str:
        return f"Value(data={self.data:.4g}, grad={self.grad:.4g})"


def as_value(x: Value | float) -> Value:
    """``x`` itself if it is a Value, else a new Value holding the constant ``x``."""
    return x if isinstance(x, Value) else Value(x)


def method_of(cls: type, *names: str) -> Callable:
    """Decorator: attach the decorated function to ``cls`` under each of ``names``."""
    def attach(function: Callable) -> Callable:
        for name in names:
            setattr(cls, name, function)
        return function
    return attach
# --8<-- [end:value]


# --8<-- [start:add_mul]
@method_of(Value, "__add__", "__radd__")
def add(self: Value, other: Value | float) -> Value:
    """self + other. Both partial derivatives are 1: each input gets the gradient as it is."""
    other = as_value(other)
    out = Value(self.data + other.data, (self, other), "+")

    def backward_fn() -> None:
        self.grad += out.grad
        other.grad += out.grad

    out.backward_fn = backward_fn
    return out


@method_of(Value, "__mul__", "__rmul__")
def mul(self: Value, other: Value | float) -> Value:
    """self * other. Each input gets the gradient times the other input."""
    other = as_value(other)
    out = Value(self.data * other.data, (self, other), "*")

    def backward_fn() -> None:
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    out.backward_fn = backward_fn
    return out
# --8<-- [end:add_mul]


# --8<-- [start:pow]
@method_of(Value, "__pow__")
def power(self: Value, exponent: float) -> Value:
    """self ** exponent, for a constant exponent: the derivative is exponent * self ** (exponent - 1)."""
    if isinstance(exponent, Value):
        raise TypeError("only a constant exponent is supported, not a Value")
    out = Value(self.data ** exponent, (self,), f"**{exponent:g}")

    def backward_fn() -> None:
        self.grad += exponent * self.data ** (exponent - 1) * out.grad

    out.backward_fn = backward_fn
    return out
# --8<-- [end:pow]


# --8<-- [start:derived]
@method_of(Value, "__neg__")
def neg(self: Value) -> Value:
    """-self, as self * -1."""
    return self * -1


@method_of(Value, "__sub__")
def sub(self: Value, other: Value | float) -> Value:
    """self - other, as self + (-other)."""
    return self + (-as_value(other))


@method_of(Value, "__rsub__")
def rsub(self: Value, other: float) -> Value:
    """other - self, for a number on the left."""
    return as_value(other) + (-self)


@method_of(Value, "__truediv__")
def div(self: Value, other: Value | float) -> Value:
    """self / other, as self * other ** -1."""
    return self * as_value(other) ** -1


@method_of(Value, "__rtruediv__")
def rdiv(self: Value, other: float) -> Value:
    """other / self, for a number on the left."""
    return as_value(other) * self ** -1
# --8<-- [end:derived]


# --8<-- [start:sum_mean]
def value_sum(values: Iterable[Value | float]) -> Value:
    """One node for the sum of many values; each of them gets the sum's gradient as it is."""
    terms = tuple(as_value(v) for v in values)
    out = Value(sum(t.data for t in terms), terms, "sum")

    def backward_fn() -> None:
        for term in terms:
            term.grad += out.grad

    out.backward_fn = backward_fn
    return out


def value_mean(values: Iterable[Value | float]) -> Value:
    """The mean of the values: their sum times 1 / n."""
    terms = list(values)
    return value_sum(terms) * (1 / len(terms))
# --8<-- [end:sum_mean]


# --8<-- [start:backward]
def topological_order(root: Value) -> list[Value]:
    """``root`` and every value it was computed from, each one after all of its parents."""
    order: list[Value] = []
    visited: set[Value] = set()

    def visit(value: Value) -> None:
        if value in visited:
            return
        visited.add(value)
        for parent in value.parents:
            visit(parent)
        order.append(value)

    visit(root)
    return order


@method_of(Value, "backward")
def backward(self: Value) -> None:
    """Add d self / d leaf to the grad of every leaf that self was computed from.

    The values in between get their gradient afresh on each call; the leaves
    accumulate, as PyTorch's leaf tensors do.
    """
    order = topological_order(self)
    for value in order:
        if value.parents:
            value.grad = 0.0
    self.grad += 1.0
    for value in reversed(order):
        value.backward_fn()
# --8<-- [end:backward]


def main(argv: Sequence[str] | None = None) -> int:
    """Print o = mean(3 (x + 2) ** 2) and its gradient for the numbers given."""
    parser = argparse.ArgumentParser(prog="python -m snippets.engine",
                                     description=main.__doc__)
    parser.add_argument("--x", type=float, nargs="+", default=[1.0, 1.0, 1.0, 1.0],
                        help="the numbers x_i (default: four ones)")
    args = parser.parse_args(argv)
    x = [Value(v) for v in args.x]
    o = value_mean([3 * (xi + 2) ** 2 for xi in x])
    o.backward()
    print(f"o = {o.data:.4f}")
    print("do/dx =", " ".join(f"{xi.grad:.4f}" for xi in x))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
