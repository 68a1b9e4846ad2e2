"""What the Training panel and the curves say about the run between the live updates.

- the Train button says what it will do ("Continue for 100 more epochs" after a finished
  run, not a silent second run);
- paused, stopped or reopened, the progress bar shows where the trainer is ("Epoch 80 of
  100, paused"), never a stale bundle or an ETA;
- when a run ends (or a trained project opens), the final loss and metric of the train,
  validation and test splits, from ``Trainer.evaluate``;
- the curves' x axes end where the run will end, and at the data once it has.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from nnstudio.training import metric_name_for

#: while pausing, the worker finishes the batch it is in: look again this often until it has
HELD_POLL_MS = 30
END_STATES = {"done": "finished", "stopped": "stopped", "diverged": "diverged",
              "error": "failed"}


class RunStatus(QObject):
    """Keeps the Training panel and the curves in step with the controller."""

    def __init__(self, controller, session, panel, curves, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller, self.session, self.panel, self.curves = controller, session, panel, curves
        self.controller.run_started.connect(curves.start_run)
        self.controller.state_changed.connect(self._on_state)
        self.controller.finished.connect(self._on_finished)
        session.config_changed.connect(self.update_start_text)
        session.network_changed.connect(self._on_network_changed)
        session.dataset_changed.connect(self._on_dataset_changed)
        session.weights_changed.connect(self._on_weights_changed)
        self._held_timer = QTimer(self, interval=HELD_POLL_MS)
        self._held_timer.timeout.connect(self._show_when_held)
        self._on_dataset_changed()

    def update_start_text(self) -> None:
        if self.controller.state == "idle":
            self.panel.set_start_text(self.controller.start_text())

    def show_position(self, state: str) -> bool:
        """The trainer's own counters in the progress bar; False without a trainer."""
        position = self.controller.position()
        if position is None:
            return False
        self.panel.show_position(*position, state)
        return True

    def show_results(self) -> None:
        results = self.controller.final_results()
        dataset = self.session.dataset
        note = ""
        if results and getattr(dataset, "target_scaler", None) is not None:
            note = (f"RMSE is in the units of {dataset.target!r}. Losses are in standardized "
                    "units (the target was scaled to mean 0, standard deviation 1 on the "
                    "training split); 1 unit = "
                    f"{dataset.target_unit_scale:.4g} in the target's units.")
        elif results and dataset is not None and dataset.task == "regression":
            note = f"Loss and RMSE are in the units of {dataset.target!r}."
        self.panel.show_results(results, note)

    def restore(self) -> None:
        """After a project opened: where its trainer stands, and its final numbers."""
        position = self.controller.position()
        if position is not None and (position[0] or position[2]):
            done, target = position[0], position[1]
            self.show_position("paused" if done < target or position[2] else "finished")
            self.show_results()
        self.update_start_text()

    def _on_state(self, state: str) -> None:
        if state == "paused":
            self.show_position("paused")
            self._held_timer.start()
        else:
            self._held_timer.stop()
        self.update_start_text()

    def _show_when_held(self) -> None:
        worker = self.controller.worker
        if worker is None or self.controller.state != "paused":
            self._held_timer.stop()
        elif worker.held:
            self._held_timer.stop()
            self.show_position("paused")

    def _on_finished(self, reason: str) -> None:
        self.curves.finish_run()
        self.show_position(END_STATES.get(reason, reason))
        self.show_results()
        self.update_start_text()

    def _on_weights_changed(self) -> None:
        """E.g. recomputed population statistics: the final numbers change with them."""
        if self.controller.state == "idle" and self.panel.results_table.item(0, 0) is not None:
            self.show_results()

    def _on_network_changed(self, fresh: bool) -> None:
        if fresh:
            self.panel.show_results(None)
            self.panel.progress.setValue(0)
            self.panel.progress.setFormat("Not started")
        self.update_start_text()

    def _on_dataset_changed(self) -> None:
        dataset = self.session.dataset
        if dataset is not None:
            self.curves.set_metric_name(metric_name_for(dataset.task))
