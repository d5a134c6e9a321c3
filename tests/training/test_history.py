import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from course_lib.training.fit import fit  # noqa: E402
from course_lib.training.history import History  # noqa: E402


def trained_history(val=True, metrics=None):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    data = TensorDataset(torch.randn(9, 3), torch.randint(0, 2, (9,)))
    loader = DataLoader(data, batch_size=4)
    return fit(model, loader, loss_fn=torch.nn.CrossEntropyLoss(), epochs=2, progress=False, metrics=metrics,
               optimizer=torch.optim.SGD(model.parameters(), lr=0.1), val_loader=loader if val else None,
               validate_every=2 if val else None)


def test_series_access_by_epoch_iteration_and_validation():
    history = trained_history()
    assert history["val_loss"] == [record["val_loss"] for record in history.epochs]
    assert history.iteration_series("lr") == [0.1] * 6
    assert history.validation_series("step") == [2, 3, 4, 6]
    assert history.iterations_per_epoch == 3
    assert "val_accuracy" in history.keys()
    with pytest.raises(KeyError, match=r"no 'val_f1'.*'val_accuracy'"):
        history["val_f1"]


def test_state_dict_is_plain_data_and_round_trips_as_a_copy():
    history = trained_history()
    state = history.state_dict()
    copy = History.from_state_dict(state)
    assert (copy.iterations, copy.validations, copy.epochs) == (history.iterations, history.validations,
                                                                history.epochs)
    state["epochs"][0]["loss"] = -1.0
    assert copy.epochs[0]["loss"] != -1.0 and history.epochs[0]["loss"] != -1.0

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(key, str) and plain(item) for key, item in value.items())
        if isinstance(value, list):
            return all(plain(item) for item in value)
        return isinstance(value, (int, float, str))
    assert plain(history.state_dict())


@pytest.mark.parametrize("x", ["iteration", "epoch"])
@pytest.mark.parametrize("val, metrics, panels", [(True, None, 2), (False, {}, 1)])
def test_plot_draws_loss_and_accuracy_panels_and_returns_the_figure(x, val, metrics, panels):
    history = trained_history(val=val, metrics=metrics)
    figure = history.plot(x=x, title="run")
    try:
        assert isinstance(figure, matplotlib.figure.Figure)
        assert len(figure.axes) == panels
        lines_per_panel = 3 if val else 2  # mini-batch, epoch means, validation
        assert all(len(ax.lines) == lines_per_panel for ax in figure.axes)
        assert figure.axes[0].get_xlabel().startswith(x)
    finally:
        plt.close(figure)


def test_plot_refuses_an_unknown_axis_and_an_empty_history():
    with pytest.raises(ValueError, match='"iteration" or "epoch"'):
        trained_history().plot(x="step")
    with pytest.raises(ValueError, match="empty"):
        History().plot()
