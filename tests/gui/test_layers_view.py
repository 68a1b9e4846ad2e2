"""The Layers view as a person uses it: train and watch each layer, pick a layer in the stack,
read the findings of a broken run, press the two sanity buttons."""
from __future__ import annotations

import os

from PySide6.QtCore import Qt

from nnstudio.data import make_builtin
from nnstudio.engine import build_network
from nnstudio.project import save_project
from nnstudio.training import TrainConfig, Trainer
from tests.gui.driving import train

SHOTS = os.environ.get("NNSTUDIO_SCREENSHOTS")  # a folder: save what the tests show


def shoot(window, name):
    if SHOTS:
        window.grab().save(os.path.join(SHOTS, f"layers_{name}.png"))


def open_layers(qtbot, window):
    view = window.layers_view
    window.views.setCurrentWidget(view)
    qtbot.waitUntil(view.isVisible)
    return view


def test_training_fills_every_layer_and_the_selected_layers_histograms(qtbot, window):
    view = open_layers(qtbot, window)
    assert window.views.tabText(window.views.indexOf(view)) == "Layers"
    assert view.layer_combo.count() == len(window.session.network.layers) == 6
    train(qtbot, window, epochs=40)
    shoot(window, "after_training")
    dense = view._rows[0]["curves"]
    x, y = dense["grad_norm"].getOriginalDataset()
    assert len(x) == 40 and (y > 0).all()  # one point per epoch
    x, _ = dense["update_ratio"].getOriginalDataset()
    assert len(x) == 5  # Iris: every 8th epoch is measured (32 steps apart)
    relu = view._rows[2]["curves"]
    assert set(relu) == {"fraction"} and len(relu["fraction"].getOriginalDataset()[0]) == 5
    _, image = view.heatmaps["weights"]
    # bins × sampled epochs (Iris: every 32nd epoch's first batch is looked inside)
    assert image.image is not None and image.image.shape == (32, 2)
    assert view.findings_list.item(0).text().startswith("No findings")


def test_clicking_a_layer_in_the_stack_selects_it_in_the_view(qtbot, window):
    view = open_layers(qtbot, window)
    stack = window.layer_stack
    rect = stack.visualItemRect(stack.topLevelItem(3))
    qtbot.mouseClick(stack.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.selected == 3 and view.layer_combo.currentText() == "3:Dense(16)"
    assert "layer 3 Dense(16)" in view.heatmap_title.text
    view.layer_combo.setCurrentIndex(2)  # and back: the view selects in the stack
    assert stack.current_layer() == 2
    assert view.heatmaps["weights"][0].titleLabel.text == "weights (none)"


def test_a_broken_run_lists_its_findings_with_the_layer_and_a_click_selects_it(qtbot, window, tmp_path):
    dataset = make_builtin("iris")
    network = build_network("dense:16,tanh", dataset.n_features, dataset.task, dataset.n_outputs, seed=0)
    trainer = Trainer(network, dataset, TrainConfig(epochs=100, optimizer="sgd", lr=10.0, momentum=0.0))
    list(trainer.run())
    path = save_project(tmp_path / "too_fast.nnproj", network, dataset, trainer)
    view = open_layers(qtbot, window)
    assert window.files.open_project(str(path))
    texts = [view.findings_list.item(i).text() for i in range(view.findings_list.count())]
    shoot(window, "findings")
    update = next(i for i, text in enumerate(texts) if "learning rate is too high" in text)
    assert texts[update].startswith("⚠ [2 Dense(3)]")
    assert any(text.startswith("⚠ [1 Tanh]") and "saturated" in text for text in texts)
    item = view.findings_list.item(update)
    qtbot.mouseClick(view.findings_list.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.findings_list.visualItemRect(item).center())
    assert view.selected == 2 and window.layer_stack.current_layer() == 2
    _, image = view.heatmaps["activations"]
    assert image.image is not None  # histograms came back with the project


def test_sanity_buttons_report_the_initial_loss_and_overfit_20_rows(qtbot, window):
    view = open_layers(qtbot, window)
    qtbot.mouseClick(view.initial_button, Qt.MouseButton.LeftButton)
    assert "for 3 classes; ln 3 = 1.10" in view.sanity_label.text()
    qtbot.mouseClick(view.overfit_button, Qt.MouseButton.LeftButton)
    assert view.overfit_button.text() == "Cancel"
    qtbot.waitUntil(lambda: view.worker is None, timeout=30000)
    shoot(window, "sanity")
    assert "the network can learn" in view.sanity_label.text()
    assert view.overfit_button.text() == "Overfit a tiny batch"
    before = window.session.network.state_dict()
    assert all((before[k] == v).all() for k, v in window.session.network.state_dict().items())


def test_points_inside_long_epochs_are_drawn_in_order_but_not_judged():
    from nnstudio.gui.layer_health_store import LayerHealthStore
    from nnstudio.training.health import EpochHealth

    def layers(ratio):
        return [{"layer_index": 0, "label": "0:Dense(4)", "type": "dense", "grad_norm": 1.0,
                 "weight_norm": 1.0, "update_ratio": ratio, "output_grad_norm": 1.0,
                 "activation_mean": 0.0, "activation_std": 1.0}]
    store = LayerHealthStore()
    store.add_epochs([(1, EpochHealth(1, layers(1e-3), 32)),
                      (1.5, EpochHealth(1.5, layers(5.0), 32, partial=True)),
                      (2, EpochHealth(2, layers(1e-3), 32))])
    xs, ys = store.data(0, "update_ratio")
    assert list(xs) == [1.0, 1.5, 2.0] and ys[1] == 5.0
    assert [entry["epoch"] for entry in store.entries] == [1, 2]  # the findings rules' input
    assert store.findings("classification", 3) == []
