"""Runs the engine's training generator in a worker and feeds the panels.

The controller owns the ``Trainer`` (kept across Start/Stop so that a run continues where it
stopped, with its optimizer state and counters) and, through a
:class:`~nnstudio.gui.worker_run.WorkerRun`, the ``GeneratorWorker`` driving ``Trainer.run``.
Bundles of snapshots arrive at most ``BUNDLE_RATE`` times a second; each feeds the curves,
the progress bar and, per epoch, the BatchNorm panel. A probe copies what the decision
boundary needs in the worker thread, between batches.
"""
from __future__ import annotations

import contextlib
import dataclasses

from PySide6.QtCore import QObject, Signal

from nnstudio.engine.context import BN_STATS_MODES
from nnstudio.training import BatchSnapshot, DivergedSnapshot, EpochSnapshot, Trainer

from .session import Session
from .worker_run import WorkerRun, prepared
from .workers import Bundle, GeneratorWorker, Probe

STOP_TIMEOUT_MS = 900
#: bundles of snapshots per second at most; the window redraws when one arrives, so more
#: would only cost the training thread GIL time
BUNDLE_RATE = 2.0


class TrainingController(QObject):
    """Start / pause / step / stop / reset of training for the session's network."""

    state_changed = Signal(str)           # "idle" | "running" | "paused"
    # object, not list: PySide converts a list argument element by element
    batches = Signal(object)              # list of the BatchSnapshots of one bundle
    epochs = Signal(object)               # list of the EpochSnapshots of one bundle
    probes = Signal(dict)                 # probe name -> result, computed in the worker
    progress = Signal(int, int, int, int, object)  # epoch, target, batch, batches, eta
    bundle_handled = Signal()             # after the signals of one bundle: time to draw
    history_cleared = Signal()
    message = Signal(str)                 # for the status line
    failed = Signal(str, str)             # title, text: for an error dialog
    finished = Signal(str)                # why the run ended: "done" | "stopped" | "diverged" | "error"
    run_started = Signal(int, int)        # the curves' last epoch and step of the run

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.trainer: Trainer | None = None
        self._runs = WorkerRun(self._on_bundle, self._on_done, self._on_errored,
                               self._on_paused_changed, wait_ms=STOP_TIMEOUT_MS)
        self.state = "idle"
        self.target_epoch = 0
        self._end_reason = "done"
        self._probe_factories: dict[str, tuple] = {}
        #: added to a new trainer's step/epoch numbers so that the curves continue
        self.step_offset = self.epoch_offset = 0
        self._last_step = self._last_epoch = 0
        #: asked before trained weights and curves are thrown away (the window asks the user)
        self.confirm_reset = lambda: True
        session.network_changed.connect(self._on_network_replaced)
        session.dataset_changed.connect(self._drop_trainer)

    @property
    def worker(self) -> GeneratorWorker | None:
        """The worker of the run, None when idle."""
        return self._runs.current

    # -- probes -------------------------------------------------------------------------
    def add_probe(self, name: str, make_fn, interval: float = 0.3) -> None:
        """Register ``make_fn(network, session) -> fn``; ``fn()`` runs in the worker."""
        self._probe_factories[name] = (make_fn, interval)

    # -- trainer lifetime ---------------------------------------------------------------
    def _on_network_replaced(self, fresh: bool) -> None:
        self._drop_trainer()
        if fresh:
            self.clear_history()

    def clear_history(self) -> None:
        self.step_offset = self.epoch_offset = self._last_step = self._last_epoch = 0
        self.history_cleared.emit()

    def _drop_trainer(self) -> None:
        self.trainer = None

    def ensure_trainer(self) -> Trainer:
        """The trainer for the current network, dataset and settings (raises ValueError)."""
        session = self.session
        if session.dataset is None:
            raise ValueError("no dataset is loaded")
        if session.network is None:
            raise ValueError(session.network_error or "the network is not built")
        if self.trainer is None or self.trainer.network is not session.network:
            self.trainer = Trainer(session.network, session.dataset, session.train_config)
            self.step_offset, self.epoch_offset = self._last_step, self._last_epoch
            self._watch_health()
        elif self.trainer.config != session.train_config:
            changes = dataclasses.asdict(session.train_config)
            changes.pop("seed")
            self.trainer.update_config(**changes)
        return self.trainer

    def adopt_trainer(self, trainer: Trainer | None) -> None:
        """Use a trainer restored from a project (it continues where it was saved)."""
        self.trainer = trainer
        self._watch_health()
        self.step_offset = self.epoch_offset = 0
        self._last_step = trainer.step if trainer is not None else 0
        self._last_epoch = trainer.epoch if trainer is not None else 0

    def _watch_health(self) -> None:
        """The Layers view takes every computed epoch of this trainer (see HealthRecorder.take)."""
        if self.trainer is not None and self.trainer.health is not None:
            self.trainer.health.live = True

    def gui_turn(self):
        """Context manager: the worker waits between batches while the GUI draws."""
        worker = self.worker
        return worker.gui_turn() if worker is not None else contextlib.nullcontext()

    def evaluate_modes(self) -> dict[str, dict]:
        """Validation loss and metric with BatchNorm on running and on batch statistics.

        Only when no batch is being computed (idle or paused); raises ValueError otherwise.
        """
        if self.state == "running":
            raise ValueError("training is running")
        trainer = self.ensure_trainer()
        return {mode: trainer.evaluate("val", bn_stats=mode) for mode in BN_STATS_MODES}

    def start_text(self) -> str:
        """What Train does now: start, continue to the configured epochs, or go on."""
        trainer, epochs = self.trainer, self.session.train_config.epochs
        done = trainer.epoch if trainer is not None and trainer.network is self.session.network \
            else 0
        if done == 0 and (trainer is None or trainer.batch == 0):
            return "Train"
        if done < epochs:
            return f"Continue to epoch {epochs}"
        return f"Continue for {epochs} more epoch{'s' if epochs != 1 else ''}"

    def position(self) -> tuple[int, int, int, int] | None:
        """(epochs done, target, batch within the next epoch, batches per epoch) of the
        trainer, read between batches; None without a trainer."""
        trainer = self.trainer
        if trainer is None or trainer.network is not self.session.network:
            return None
        target = self.target_epoch if self.state != "idle" else self.session.train_config.epochs
        return trainer.epoch, max(target, trainer.epoch), trainer.batch, trainer.batches_per_epoch

    def final_results(self) -> dict[str, dict] | None:
        """Loss and metric on the train, validation and test splits (idle only; None
        before any training)."""
        if self.state != "idle" or self.trainer is None or self.trainer.step == 0 \
                or self.trainer.network is not self.session.network:
            return None
        return {split: self.trainer.evaluate(split) for split in ("train", "val", "test")}

    # -- commands -------------------------------------------------------------------------
    def start(self, paused_after_steps: int | None = None) -> bool:
        if self.state != "idle":
            return False
        trainer = prepared(self.ensure_trainer, self.failed, {ValueError: "Cannot start training"})
        if trainer is None:
            return False
        epochs = self.session.train_config.epochs
        if trainer.epoch < epochs:
            self.target_epoch, run_epochs = epochs, None
        else:
            self.target_epoch, run_epochs = trainer.epoch + epochs, epochs
        probes = [Probe(name, make_fn(trainer.network, self.session), interval)
                  for name, (make_fn, interval) in self._probe_factories.items()]
        worker = self._runs.begin(GeneratorWorker(
            lambda: trainer.run(run_epochs), max_rate=BUNDLE_RATE, probes=probes,
            is_step=lambda item: isinstance(item, BatchSnapshot)))
        self._end_reason = "done"
        if paused_after_steps:
            worker.step(paused_after_steps)
        self.session.set_busy("training")
        self.run_started.emit(self.epoch_offset + self.target_epoch,
                              self.step_offset + self.target_epoch * trainer.batches_per_epoch)
        self._set_state("running")
        worker.start()
        return True

    def toggle_pause(self) -> None:
        if self.worker is None:
            return
        if self.state == "paused":
            self.worker.resume()
        else:
            self.worker.pause()

    def pause(self) -> None:
        if self.worker is not None and self.state == "running":
            self.worker.pause()

    def resume(self) -> None:
        if self.worker is not None:
            self.worker.resume()

    def hold(self, timeout: float = 1.0) -> bool:
        """Pause and wait until no batch is being computed; True when that is so."""
        if self.worker is None:
            return True
        self.worker.pause()
        return self.worker.wait_until_held(timeout)

    def computing(self) -> bool:
        """True while the worker may be inside a batch (running, or pausing but not yet held)."""
        return self.worker is not None and not self.worker.held

    def step(self) -> None:
        """Exactly one batch: start paused-after-one if idle, else one more batch."""
        if self.state == "idle":
            self.start(paused_after_steps=1)
        elif self.worker is not None:
            self._set_state("running")
            self.worker.step(1)

    def stop(self) -> None:
        if self.worker is not None:
            self._end_reason = "stopped"
            self._runs.stop()

    def shutdown(self, timeout_ms: int = STOP_TIMEOUT_MS) -> bool:
        """Stop and wait for the worker thread (window closing); True if it ended (else it
        finishes its batch in the background, unheard)."""
        if self.worker is None:
            return True
        self._end_reason = "stopped"
        ended = self._runs.shutdown(timeout_ms)
        self._release_worker()
        return ended

    def reset_weights(self) -> None:
        if self.state != "idle":
            self.message.emit("Stop training before resetting the weights.")
            return
        trained = self.trainer is not None and self.trainer.step > 0
        if trained and not self.confirm_reset():
            return
        self.session.reset_weights()
        self.message.emit("Weights initialised again from the seed.")

    # -- worker signals (GUI thread) --------------------------------------------------
    def _on_bundle(self, _worker: GeneratorWorker, bundle: Bundle) -> None:
        self._handle_items(bundle.items)
        if bundle.probes:
            self.probes.emit(bundle.probes)
        self.bundle_handled.emit()

    def _handle_items(self, items: list) -> None:
        batches, epochs = [], []
        for item in items:  # one pass: a bundle of a fast run holds thousands
            kind = type(item)
            if kind is BatchSnapshot:
                batches.append(item)
            elif kind is EpochSnapshot:
                epochs.append(item)
            elif kind is DivergedSnapshot:
                self._end_reason = "diverged"
                self.failed.emit("Training diverged", item.message)
        if batches:
            self._last_step = self.step_offset + batches[-1].step
            self.batches.emit(batches)
            self._emit_progress(batches[-1])
        if epochs:
            self._last_epoch = self.epoch_offset + epochs[-1].epoch
            self.epochs.emit(epochs)
        if items:
            self.session.set_modified()

    def _emit_progress(self, snapshot: BatchSnapshot) -> None:
        trainer = self.trainer
        done_steps = snapshot.step
        total_steps = self.target_epoch * snapshot.batches_per_epoch
        remaining = max(total_steps - done_steps, 0)
        rate = done_steps / snapshot.elapsed if snapshot.elapsed > 0 else None
        eta = remaining / rate if rate else None
        target = self.target_epoch if trainer is None else max(self.target_epoch, trainer.epoch)
        self.progress.emit(snapshot.epoch, target, snapshot.batch, snapshot.batches_per_epoch, eta)

    def _on_paused_changed(self, paused: bool) -> None:
        if self.worker is not None and self.worker.running:
            self._set_state("paused" if paused else "running")

    def _on_errored(self, exc: BaseException) -> None:
        self._end_reason = "error"
        self.failed.emit("Training failed", f"{type(exc).__name__}: {exc}")

    def _on_done(self) -> None:
        reason = self._end_reason
        self._release_worker()
        texts = {"done": "Training finished.", "stopped": "Training stopped.",
                 "diverged": "Training diverged; the last good weights were kept.",
                 "error": "Training failed."}
        self.message.emit(texts.get(reason, reason))
        self.finished.emit(reason)

    def _release_worker(self) -> None:
        self.session.set_busy(None)
        self._set_state("idle")

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
