"""The graph walker finds exactly the operations and leaves autograd recorded."""

import pytest
import torch

from snippets.graph import graph_edges
from snippets.linear_regression import make_data


@pytest.fixture
def regression():
    x_train, y_train, _, _ = (torch.from_numpy(arr).float() for arr in make_data())
    torch.manual_seed(42)
    a = torch.randn(1, requires_grad=True)
    b = torch.randn(1, requires_grad=True)
    return x_train, y_train, a, b


def nodes(edges):
    return {node for edge in edges for node in edge}


def test_yhat_graph_has_both_parameters_and_no_data(regression):
    x, _, a, b = regression
    edges = graph_edges(a + b * x, {"a": a, "b": b})
    assert sorted(edges) == [("MulBackward0", "AddBackward0"), ("a", "AddBackward0"),
                             ("b", "MulBackward0")]


def test_loss_graph_extends_the_error_graph(regression):
    x, y, a, b = regression
    error = a + b * x - y
    loss = (error ** 2).mean()
    names = {"a": a, "b": b}
    assert nodes(graph_edges(error, names)) == {"a", "b", "MulBackward0", "AddBackward0",
                                                "SubBackward0"}
    assert nodes(graph_edges(loss, names)) == nodes(graph_edges(error, names)) | {
        "PowBackward0", "MeanBackward0"}


def test_tensor_without_requires_grad_is_not_in_the_graph(regression):
    x, _, _, b = regression
    a_nongrad = torch.randn(1)
    edges = graph_edges(a_nongrad + b * x, {"b": b})
    assert sorted(edges) == [("MulBackward0", "AddBackward0"), ("b", "MulBackward0")]


def test_unnamed_leaf_is_called_leaf(regression):
    x, _, a, b = regression
    assert ("leaf", "AddBackward0") in graph_edges(a + b * x, {"b": b})
