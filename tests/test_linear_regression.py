"""Every stage of the linear-regression pipeline reaches the least-squares line."""

import numpy as np
import pytest
import torch
from torch import nn, optim

from snippets.device import get_device
from snippets.linear_regression import (
    LayerLinearRegression, ManualLinearRegression, autograd_by_hand, least_squares,
    make_data, numpy_gradient_descent, train_model, with_optimizer)
from snippets.training import (
    DivergenceError, ShapeError, check_finite, make_train_step, validation_loss)

# "To 4 decimals": the printed a and b equal the least-squares ones.
DECIMALS = 5e-5


@pytest.fixture(scope="module")
def data():
    return make_data(42)


@pytest.fixture(scope="module")
def tensors(data):
    device = get_device()
    return [torch.from_numpy(arr).float().to(device) for arr in data]


@pytest.fixture(scope="module")
def exact(data):
    x_train, y_train, _, _ = data
    return least_squares(x_train, y_train)


def test_data_follows_the_reference_recipe(data):
    x_train, y_train, x_val, y_val = data
    assert [a.shape for a in data] == [(80, 1), (80, 1), (20, 1), (20, 1)]
    x_all = np.concatenate([x_train, x_val])
    assert np.all((0 <= x_all) & (x_all < 1))
    residual = np.concatenate([y_train, y_val]) - (1 + 2 * x_all)
    assert abs(residual.std() - 0.1) < 0.02


def test_least_squares_gives_the_reference_numbers(exact):
    assert [round(v, 4) for v in exact] == [1.0235, 1.9690]


def test_numpy_gd_matches_least_squares(data, exact):
    x_train, y_train, _, _ = data
    assert numpy_gradient_descent(x_train, y_train) == pytest.approx(exact, abs=DECIMALS)


@pytest.mark.parametrize("stage", [autograd_by_hand, with_optimizer])
def test_torch_stage_matches_least_squares(stage, tensors, exact):
    x_train, y_train, _, _ = tensors
    assert stage(x_train, y_train) == pytest.approx(exact, abs=DECIMALS)


@pytest.mark.parametrize("model_class", [ManualLinearRegression, LayerLinearRegression])
def test_module_trained_with_train_step_matches_least_squares(model_class, tensors, exact):
    x_train, y_train, _, _ = tensors
    torch.manual_seed(42)
    model = model_class().to(x_train.device)
    history = train_model(model, x_train, y_train)
    assert len(history) == 1000 and history[-1] < history[0]
    assert model.coefficients() == pytest.approx(exact, abs=DECIMALS)


def test_make_train_step_updates_parameters_and_returns_the_loss(tensors):
    x_train, y_train, _, _ = tensors
    torch.manual_seed(0)
    model = LayerLinearRegression().to(x_train.device)
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():
        expected_loss = loss_fn(model(x_train), y_train).item()

    loss = make_train_step(model, loss_fn, optimizer)(x_train, y_train)

    assert loss == pytest.approx(expected_loss)
    assert all(not torch.equal(b, p) for b, p in zip(before, model.parameters()))
    assert all(p.grad is None for p in model.parameters())  # zero_grad sets them to None


def test_train_step_rejects_a_target_of_another_shape(tensors):
    x_train, y_train, _, _ = tensors
    model = LayerLinearRegression().to(x_train.device)
    step = make_train_step(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ShapeError, match=r"prediction has shape \(80, 1\) but target has "
                                         r"shape \(80,\)"):
        step(x_train, y_train[:, 0])


def test_validation_loss_runs_in_eval_mode_without_a_graph(tensors):
    _, _, x_val, y_val = tensors
    seen = {}

    class Probe(LayerLinearRegression):
        def forward(self, x):
            seen.update(training=self.training, grad=torch.is_grad_enabled())
            return super().forward(x)

    model = Probe().to(x_val.device)
    loss = validation_loss(model, nn.MSELoss(), x_val, y_val)
    assert seen == {"training": False, "grad": False}
    assert isinstance(loss, float) and loss > 0


def test_check_finite_names_the_epoch_and_suggests_a_smaller_rate():
    check_finite(1.5, epoch=1, lr=0.1)
    with pytest.raises(DivergenceError, match="the loss became nan at epoch 7: learning rate 10 "
                                              "is too large for this problem; try a smaller one"):
        check_finite(torch.tensor(float("nan")), epoch=7, lr=10)


def test_numpy_stage_stops_when_the_loss_overflows(data):
    x_train, y_train, _, _ = data
    with np.errstate(over="ignore"), pytest.raises(DivergenceError, match="at epoch 146"):
        numpy_gradient_descent(x_train, y_train, lr=5)


def test_torch_training_stops_when_the_loss_overflows(tensors):
    x_train, y_train, _, _ = tensors
    with pytest.raises(DivergenceError, match=r"became (inf|nan) at epoch \d+: learning rate 5 "):
        autograd_by_hand(x_train, y_train, lr=5)
    model = LayerLinearRegression().to(x_train.device)
    with pytest.raises(DivergenceError, match="learning rate 5 is too large"):
        train_model(model, x_train, y_train, lr=5)
