"""The scalar engine of "Autograd from scratch" computes what torch.autograd computes.

Values and gradients are compared in float64 (Python floats are doubles):
equal when they differ by at most TOLERANCE times max(1, |torch's number|).
"""

from __future__ import annotations

import random

import pytest
import torch

from snippets.engine import Value, as_value, topological_order, value_mean, value_sum

TOLERANCE = 1e-12
EXPRESSIONS = 500
VARIABLES = 3
OPERATIONS = ("+", "*", "-", "/", "**")


def close(engine: float, reference: float) -> bool:
    return abs(engine - reference) <= TOLERANCE * max(1.0, abs(reference))


def random_expression(rng: random.Random, depth: int):
    """A random expression tree over the variables 0..VARIABLES-1 and constants.

    A tree is ("var", i), ("const", c), or (op, left, right) where op is one
    of OPERATIONS; "**" raises its left side to a constant 2 or 3, "/"
    divides by a constant of magnitude 0.5 to 2 (so nothing blows up).
    """
    if depth == 0 or rng.random() < 0.2:
        if rng.random() < 0.7:
            return ("var", rng.randrange(VARIABLES))
        return ("const", round(rng.uniform(-2, 2), 3))
    op = rng.choice(OPERATIONS)
    left = random_expression(rng, depth - 1)
    if op == "**":
        return (op, left, rng.choice([2, 3]))
    if op == "/":
        return (op, left, rng.choice([-1, 1]) * round(rng.uniform(0.5, 2), 3))
    return (op, left, random_expression(rng, depth - 1))


def evaluate(tree, variables):
    """The tree computed with Python's operators on ``variables`` (Values or tensors)."""
    kind = tree[0]
    if kind == "var":
        return variables[tree[1]]
    if kind == "const":
        return tree[1]
    left = evaluate(tree[1], variables)
    right = tree[2] if kind in ("**", "/") else evaluate(tree[2], variables)
    if kind == "+":
        return left + right
    if kind == "*":
        return left * right
    if kind == "-":
        return left - right
    if kind == "/":
        return left / right
    return left ** right


def operations_in(tree) -> list[str]:
    if tree[0] in ("var", "const"):
        return []
    found = [tree[0]] + operations_in(tree[1])
    return found + operations_in(tree[2]) if tree[0] in ("+", "*", "-") else found


def engine_result(tree, inputs: list[float]) -> tuple[float, list[float]]:
    variables = [Value(x) for x in inputs]
    out = as_value(evaluate(tree, variables))
    out.backward()
    return out.data, [v.grad for v in variables]


def torch_result(tree, inputs: list[float]) -> tuple[float, list[float]]:
    variables = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    out = evaluate(tree, variables)
    if not isinstance(out, torch.Tensor):  # a constant: no variable in the tree
        return float(out), [0.0] * len(inputs)
    grads = torch.autograd.grad(out, variables, allow_unused=True)
    return out.item(), [0.0 if g is None else g.item() for g in grads]


@pytest.fixture(scope="module")
def expressions():
    rng = random.Random(0)
    return [(random_expression(rng, depth=rng.randint(1, 4)),
             [round(rng.uniform(-2, 2), 3) for _ in range(VARIABLES)])
            for _ in range(EXPRESSIONS)]


def test_random_expressions_cover_every_operation(expressions):
    counts = {op: 0 for op in OPERATIONS}
    for tree, _ in expressions:
        for op in operations_in(tree):
            counts[op] += 1
    assert len(expressions) == EXPRESSIONS
    assert min(counts.values()) >= 100, counts


def test_random_expressions_match_torch_in_value_and_gradient(expressions):
    mismatches = []
    for i, (tree, inputs) in enumerate(expressions):
        value, grads = engine_result(tree, inputs)
        value_t, grads_t = torch_result(tree, inputs)
        if not (close(value, value_t) and all(map(close, grads, grads_t))):
            mismatches.append((i, tree, inputs, (value, grads), (value_t, grads_t)))
    assert not mismatches, mismatches[:3]


def test_mean_of_three_squares_has_gradient_4_5_at_one():
    xs = [1.0, -0.5, 2.0, 3.0]
    x = [Value(v) for v in xs]
    o = value_mean([3 * (xi + 2) ** 2 for xi in x])
    o.backward()
    x_t = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    o_t = (3 * (x_t + 2) ** 2).mean()
    o_t.backward()
    assert close(o.data, o_t.item())
    assert all(map(close, [xi.grad for xi in x], x_t.grad.tolist()))
    assert x[0].grad == 4.5


def test_sum_of_products_plus_z_matches_torch():
    xs, ys, zs = [1.0, 2.0, 3.0], [4.0, -5.0, 6.0], [0.5, 0.25, -1.0]
    x, y, z = ([Value(v) for v in vs] for vs in (xs, ys, zs))
    c = value_sum([xi * yi + zi for xi, yi, zi in zip(x, y, z)])
    c.backward()
    x_t, y_t, z_t = (torch.tensor(vs, dtype=torch.float64, requires_grad=True)
                     for vs in (xs, ys, zs))
    (x_t * y_t + z_t).sum().backward()
    assert [v.grad for v in x] == y_t.tolist() == x_t.grad.tolist()
    assert [v.grad for v in y] == xs == y_t.grad.tolist()
    assert [v.grad for v in z] == [1.0, 1.0, 1.0] == z_t.grad.tolist()


def test_regression_mse_gradients_are_the_autograd_chapters():
    xs, ys = [0.0, 1.0, 2.0, 3.0], [1.0, 3.0, 5.0, 7.0]
    a, b = Value(0.5), Value(0.5)
    loss = value_mean([(a + b * x - y) ** 2 for x, y in zip(xs, ys)])
    loss.backward()
    assert (a.grad, b.grad) == (-5.5, -12.0)


def test_a_value_used_twice_gets_both_contributions():
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0
    y = Value(3.0)
    h = y + 1
    (h * h + h).backward()  # (y + 1) ** 2 + (y + 1): derivative 2 (y + 1) + 1
    assert y.grad == 9.0


def test_backward_twice_accumulates_in_leaves_only():
    x = Value(2.0)
    h = x * 3
    out = h ** 2
    out.backward()
    first_x, first_h = x.grad, h.grad
    out.backward()
    assert (first_x, first_h) == (36.0, 12.0)
    assert (x.grad, h.grad) == (72.0, 12.0)


def test_topological_order_puts_every_value_after_its_parents():
    a, b = Value(1.0), Value(2.0)
    out = (a * b + a) ** 2
    order = topological_order(out)
    position = {v: i for i, v in enumerate(order)}
    assert order[-1] is out and len(order) == 5
    assert all(position[p] < position[v] for v in order for p in v.parents)


def test_exponent_must_be_a_constant():
    with pytest.raises(TypeError, match="constant exponent"):
        Value(2.0) ** Value(3.0)
