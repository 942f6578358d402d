"""The graph-capture helpers: op names, the recording backend, the speed benchmark."""

import importlib

import pytest
import torch

from snippets.linear_regression import LayerLinearRegression


@pytest.fixture
def capture():
    """snippets.capture, imported by the tests that use it, not at collection.

    It imports torch._dynamo, which takes seconds, and every worker collects
    every test file."""
    return importlib.import_module("snippets.capture")


@pytest.fixture(autouse=True)
def fresh_dynamo(capture):
    """What one test compiled must not decide what the next one sees."""
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def regression_data(points: int = 16):
    torch.manual_seed(0)
    x = torch.rand(points, 1)
    return x, 1 + 2 * x


def test_op_names_lists_the_calls_of_a_graph_in_order(capture):
    def f(x):
        return torch.relu(x * 2).sum()

    assert capture.op_names(torch.fx.symbolic_trace(f)) == ["mul", "relu", "sum"]


def test_recorder_keeps_the_joint_graph_and_its_two_halves(capture):
    recorder = capture.GraphRecorder()
    torch.manual_seed(0)
    model = LayerLinearRegression()
    torch.compile(capture.train_step, backend=recorder)(model, *regression_data())
    assert recorder.dynamo == [["linear", "mse_loss"]]
    assert recorder.forward == ["t", "addmm", "mse_loss"]
    assert recorder.backward[0] == "mse_loss_backward"
    assert recorder.joint == recorder.forward + recorder.backward


def test_compiled_train_step_gives_eager_gradients(capture):
    x, y = regression_data()
    grads = []
    for step in (capture.train_step, torch.compile(capture.train_step, backend="aot_eager")):
        torch.manual_seed(0)
        model = LayerLinearRegression()
        step(model, x, y)
        grads.append([p.grad.clone() for p in model.parameters()])
    for eager, compiled in zip(*grads):
        torch.testing.assert_close(compiled, eager, rtol=0, atol=1e-6)


def test_compare_speed_reports_times_and_their_ratio(capture):
    result = capture.compare_speed(points=8, steps=3, backend="eager", block=2)
    assert result["eager"] > 0 and result["compiled"] > 0
    assert result["ratio"] == pytest.approx(result["eager"] / result["compiled"])


def test_non_positive_points_is_a_clear_error(capture):
    with pytest.raises(ValueError, match="points must be positive"):
        capture.compare_speed(points=0, backend="eager")


def test_non_positive_steps_is_a_clear_error(capture):
    with pytest.raises(ValueError, match="steps must be positive"):
        capture.compare_speed(points=8, steps=0, backend="eager")


def test_unknown_backend_is_refused_by_the_command_line(capture, capsys):
    with pytest.raises(SystemExit) as exit_info:
        capture.main(["--backend", "fast"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'fast'" in capsys.readouterr().err


@pytest.mark.parametrize("device, waits", [("cpu", []), ("cuda:1", ["cuda:1"]), ("mps", ["mps"])])
def test_synchronize_waits_for_every_asynchronous_device(capture, monkeypatch, device, waits):
    """CUDA and MPS queue kernels; the CPU runs them before returning."""
    seen = []
    monkeypatch.setattr(torch.accelerator, "synchronize", lambda device: seen.append(str(device)))
    capture.synchronize(torch.device(device))
    assert seen == waits


def test_timed_step_starts_and_stops_the_clock_on_a_synchronized_device(capture, monkeypatch):
    x, y = regression_data()
    torch.manual_seed(0)
    model = LayerLinearRegression()
    seen = []
    monkeypatch.setattr(capture, "synchronize", seen.append)

    def step(*args):
        seen.append("step")
        return capture.train_step(*args)

    seconds = capture.timed_step(step, model, torch.optim.SGD(model.parameters(), lr=0.1), x, y)
    assert seconds > 0 and seen == [x.device, "step", x.device]
