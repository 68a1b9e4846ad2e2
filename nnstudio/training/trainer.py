"""The training loop as a generator of snapshots, headless and reproducible."""
from __future__ import annotations

import dataclasses
import math
from time import perf_counter
from typing import Any, Iterator

import numpy as np

from ..engine.context import Context, other_bn_mode
from ..engine.layers import BatchNorm
from ..engine.network import Network
from .checks import check_fit, epoch_count, layer_gradients, split_arrays
from .config import TrainConfig
from .divergence import (TARGET_SCALE_ADVICE, WeightBackup, divergence_message,
                         first_bad_activation, first_bad_gradient, layer_label,
                         target_scale_cause, weights_finite)
from .health import SAMPLE_EVERY, HealthRecorder
from .metrics import (batch_bounds, count_correct, evaluate_arrays, metric_name_for,
                      r2_from_sums, squared_residuals, sum_squares_about_mean)
from .progress import EpochProgress
from .snapshots import BatchSnapshot, DivergedSnapshot, EpochSnapshot
from .state import read_trainer_state, trainer_state

Snapshot = BatchSnapshot | EpochSnapshot | DivergedSnapshot
SPLITS = ("train", "val", "test")


class Trainer:
    """Trains ``network`` on ``dataset`` with ``config``; owns everything that moves.

    The trainer owns the optimizer, one ``numpy.random.Generator`` seeded from
    ``config.seed`` (shuffling and dropout masks), the epoch/batch/step counters and the
    per-epoch ``history``. The network's arrays are updated in place.

    Parameters
    ----------
    network : Network
        Built, with an input width of ``dataset.n_features``, ``dataset.n_outputs``
        outputs and the loss that fits ``dataset.task``.
    dataset : nnstudio.data.Dataset
        Anything with ``task``, ``n_features``, ``n_outputs`` and ``x_/y_`` train, val and
        test arrays.
    config : TrainConfig, optional
    health : bool
        Record per-layer statistics (``history[i]["layers"]``, histograms in ``health``);
        they cost a few percent of the time of a step (``bench/train_throughput.py``).

    Attributes
    ----------
    epoch : int         completed epochs
    batch : int         batches done in the epoch in progress (0 between epochs)
    step : int          optimizer updates
    elapsed : float     seconds spent inside :meth:`run`
    history : list[dict]  one JSON-safe entry per completed epoch; its layer statistics
                          arrive in batches (complete when a run ends, after
                          ``state_dict()`` and after ``health.take()``/``health.flush()``)
    diverged : DivergedSnapshot or None   the last divergence, cleared by the next good epoch
    health : HealthRecorder or None   layer statistics and histograms; ``health.take()`` hands
                                      a live view the epochs computed since it last asked
    """

    def __init__(self, network: Network, dataset: Any, config: TrainConfig | None = None,
                 health: bool = True) -> None:
        self.network, self.dataset = network, dataset
        self.config = config if config is not None else TrainConfig()
        self.task = check_fit(network, dataset)
        self.metric_name = metric_name_for(self.task)
        self.optimizer = self.config.make_optimizer()
        self.regularization = self.config.regularization()
        self.rng = np.random.default_rng(self.config.seed)
        self.history: list[dict[str, Any]] = []
        self.epoch = self.step = 0
        self.elapsed = 0.0
        self.diverged: DivergedSnapshot | None = None
        self._arrays = {split: split_arrays(dataset, split, network.dtype) for split in SPLITS}
        self._n_train = len(self._arrays["train"][0])
        self._ss_tot = sum_squares_about_mean(self._arrays["train"][1]) if self.task == "regression" else None
        self._progress: EpochProgress | None = None
        self._run_token: object | None = None
        self._t0 = 0.0
        self.health: HealthRecorder | None = HealthRecorder(network) if health else None
        self._bind_network()
        self._check_batchnorm_batches(self.config)

    # -- public API -----------------------------------------------------------------
    @property
    def batch(self) -> int:
        return self._progress.batch if self._progress is not None else 0

    @property
    def n_train(self) -> int:
        return self._n_train

    @property
    def batches_per_epoch(self) -> int:
        return len(batch_bounds(self._n_train, self.config.batch_size))

    def run(self, epochs: int | None = None) -> Iterator[Snapshot]:
        """Train, yielding a :class:`BatchSnapshot` after every optimizer step and an
        :class:`EpochSnapshot` at the end of every epoch.

        Parameters
        ----------
        epochs : int, optional
            Epochs to train from now (finishing an epoch in progress counts as one).
            By default, train until ``config.epochs`` epochs are complete.

        Pausing is not pulling; stopping is dropping (or closing) the generator; one
        batch is one pull past a BatchSnapshot. A new ``run`` supersedes older generators:
        they end at their next pull. On divergence one :class:`DivergedSnapshot` is
        yielded, the last good weights are restored, and the generator ends.
        """
        target = self.config.epochs if epochs is None else self.epoch + epoch_count(epochs)
        token = self._run_token = object()
        self._bind_network()
        self._t0 = perf_counter()
        while self.epoch < target:
            progress = self._progress or self._begin_epoch()
            while progress.offset < self.n_train:
                snapshot = self._train_batch(progress)
                yield snapshot
                if self._run_token is not token or isinstance(snapshot, DivergedSnapshot):
                    return
                self._t0 = perf_counter()
            yield self._finish_epoch()
            if self._run_token is not token:
                return
            self._t0 = perf_counter()
        if self.health is not None:
            self.health.flush()

    def evaluate(self, split: str = "val", bn_stats: str | None = None) -> dict[str, Any]:
        """Loss (with penalty), data loss and metric on a split, with dropout off.

        ``bn_stats`` is "running" or "batch" (default: ``config.eval_bn_stats``). Returns a
        dict with ``loss``, ``data_loss``, ``metric``, ``metric_name`` and ``n`` (numbers
        are None for an empty split). Nothing in the network moves.
        """
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        x, y = self._arrays[split]
        result = evaluate_arrays(self.network, x, y, self.task,
                                 bn_stats or self.config.eval_bn_stats, self.config.batch_size,
                                 self.regularization)
        if self.task == "regression":
            # in the target's own units, whatever scaling the network was trained on
            scale = getattr(self.dataset, "target_unit_scale", 1.0)
            data_loss = result["data_loss"]
            result["rmse"] = None if data_loss is None else math.sqrt(data_loss) * scale
        return result

    def update_config(self, **changes: Any) -> TrainConfig:
        """Change settings between pulls; they apply from the next batch.

        The optimizer keeps its state unless its type changes. ``seed`` only seeds a new
        trainer; changing it here does not reseed the running generator.
        """
        config = dataclasses.replace(self.config, **changes)
        self._check_batchnorm_batches(config)  # before anything changes
        optimizer = config.make_optimizer()
        if config.optimizer == self.config.optimizer:
            optimizer.state, optimizer.steps = self.optimizer.state, self.optimizer.steps
        self.config, self.optimizer = config, optimizer
        if self._progress is not None:
            self._progress.batches = None
        self.regularization = config.regularization()
        self._train_ctx = Context.train(self.rng, bn_stats=config.bn_stats)
        return config

    def state_dict(self) -> dict[str, Any]:
        """Counters, generator state, optimizer state and the epoch in progress.

        JSON-safe except the "arrays" entry (flat name -> ndarray). With the network's
        weights and the history, it continues training bit-identically.
        """
        return trainer_state(epoch=self.epoch, step=self.step, elapsed=self.elapsed,
                             config=self.config, optimizer=self.optimizer, rng=self.rng,
                             progress=self._progress, health=self.health)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output; validates it against the network and data."""
        loaded = read_trainer_state(state, config=self.config, network=self.network,
                                    n_train=self.n_train, grad_layers=len(self._grad_layers))
        if self.health is not None:
            self.health.load_arrays(loaded.arrays)  # validates all before it changes anything
        self.epoch, self.step, self.elapsed = loaded.epoch, loaded.step, loaded.elapsed
        self.optimizer = loaded.optimizer
        self.rng.bit_generator.state = loaded.rng.bit_generator.state
        self._set_progress(loaded.progress)
        self.diverged = None

    # -- one epoch ------------------------------------------------------------------
    def _begin_epoch(self) -> EpochProgress:
        progress = EpochProgress(self.rng.permutation(self.n_train), self._n_outputs,
                                 len(self._grad_layers))
        self._set_progress(progress)
        return progress

    def _set_progress(self, progress: EpochProgress | None) -> None:
        if progress is not None:
            progress.gather(*self._arrays["train"])
        self._progress = progress

    def _train_batch(self, progress: EpochProgress) -> BatchSnapshot | DivergedSnapshot:
        n, start = self.n_train, progress.offset
        stop = min(start + self.config.batch_size, n)
        if n - stop == 1:  # never leave a single row for a batch of its own
            stop = n
        assert progress.x_ordered is not None and progress.y_ordered is not None  # gathered
        x, y = progress.x_ordered[start:stop], progress.y_ordered[start:stop]
        self._backup.save(self.epoch + 1, progress.batch + 1, self.step)
        if progress.batches is None:  # per epoch: batch_size may change between epochs
            progress.batches = self.batches_per_epoch
        health = self.health
        # a measured epoch's first step records its update ratio ("light"); some steps also
        # look inside ("full")
        measure = None
        if health is not None:
            if health.planned != self.epoch:
                health.plan_epoch(self.epoch, progress.batches)
            if progress.batch == 0 or self.step % SAMPLE_EVERY == 0:
                measure = health.measures(self.step, progress.batch)
        sample = measure == "full"
        # Overflow is expected on the way to divergence, which is detected and reported
        # below; numpy's warnings would only add noise. Scoped per batch, not across yields.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            # BatchNorm's batch statistics are shown from the epoch's last full batch: the
            # remainder batch (8 rows of Iris) gives noisy ones
            full = self.config.batch_size
            record_bn = (stop - start >= full and n - stop < full) or (
                stop == n and not progress.bn_stats)
            outputs, data_loss, penalty = self._forward_backward(x, y, progress, record_bn,
                                                                 sample=sample)
            square_sums = self._grad_square_sums() if math.isfinite(data_loss) else None
            if square_sums is None:
                return self._diverge(x, y, outputs, progress, data_loss)
            if health is not None:
                every = health.unit_every
                if every and progress.batch % every == 0:
                    health.observe_units()
                if self.step == 0:
                    health.record_initial_loss(data_loss)
                if measure == "light":
                    health.observe_step()
            self.optimizer.step(self.network)
            if measure is not None and health is not None:
                health.after_step()
        self.step += 1
        rows = stop - start
        progress.offset, progress.batch = stop, progress.batch + 1
        progress.loss_sum += (data_loss + penalty) * rows
        progress.data_loss_sum += data_loss * rows
        if self._ss_tot is None:
            progress.correct += count_correct(outputs, y)
        else:
            progress.ss_res += squared_residuals(outputs, y)
        for index, square_sum in enumerate(square_sums):
            progress.grad_norm_sums[index] += math.sqrt(square_sum)
        self._tick()
        return BatchSnapshot(self.epoch + 1, progress.batch, progress.batches, self.step,
                             data_loss + penalty, data_loss, penalty, self.optimizer.lr, self.elapsed)

    def _forward_backward(self, x: np.ndarray, y: np.ndarray, progress: EpochProgress,
                          record_bn: bool, sample: bool = False) -> tuple[np.ndarray, float, float]:
        """Like ``Network.compute_gradients``, but keeps the outputs for the epoch's metric,
        on the epoch's last batch the batch statistics BatchNorm layers saw, and on a sampled
        batch hands every layer's output to the health recorder."""
        network, ctx, health = self.network, self._train_ctx, self.health
        sample = sample and health is not None
        network.zero_grad()
        if record_bn or sample:
            outputs, kept = x, []
            for index, layer in enumerate(network.layers):
                if record_bn and isinstance(layer, BatchNorm):
                    progress.bn_stats[index] = (outputs.mean(axis=0), outputs.var(axis=0))
                    progress.bn_rows = len(x)
                outputs = layer.forward(outputs, ctx)
                if health is not None and sample:
                    kept.append(outputs.copy() if health.copy_output[index] else outputs)
        else:
            outputs = network.forward(x, ctx)
        data_loss = float(network.loss.forward(outputs, y))
        if not math.isfinite(data_loss):
            return outputs, data_loss, 0.0
        if health is not None and sample:  # Network.backward unrolled: the recorder sees the flow
            dout, layers, copy_flow = network.loss.backward(), network.layers, health.copy_flow
            flows = [dout] * len(layers)
            for index in range(len(layers) - 1, 0, -1):
                flows[index] = dout.copy() if copy_flow[index] else dout
                dout = layers[index].backward(dout)
            flows[0] = dout.copy() if copy_flow[0] else dout
            layers[0].backward_params_only(dout)
            health.observe_sample(x, kept, flows)
        else:
            network.backward(network.loss.backward(), input_grad=False)
        return outputs, data_loss, network.add_penalty_gradients(self.regularization)

    def _grad_square_sums(self) -> list[float] | None:
        """Per-layer squared gradient norms, or None if any gradient is NaN or infinite.

        One ``vdot`` per layer when the network packs its parameters; this runs every
        batch, so the common path is a single list comprehension.
        """
        views = self._grad_views
        sums = [float(np.vdot(grad, grad)) for grad in views]
        if not math.isfinite(sum(sums)):  # rare: NaN, or a float32 overflow of finite values
            if not all(np.all(np.isfinite(grad)) for grad in views):
                return None
            sums = [float(np.vdot(g64, g64)) for g64 in (grad.astype(np.float64) for grad in views)]
        if self._view_layers is None:
            return sums
        per_layer = [0.0] * len(self._grad_layers)
        for position, square_sum in zip(self._view_layers, sums):
            per_layer[position] += square_sum
        return per_layer

    def _finish_epoch(self) -> EpochSnapshot:
        progress, rows = self._progress, self.n_train
        assert progress is not None, "an epoch ends after its batches"
        self.epoch += 1
        if self._ss_tot is None:
            train_metric = progress.correct / rows
        else:
            train_metric = r2_from_sums(progress.ss_res, self._ss_tot)
        val = self.evaluate("val")
        other = {"loss": None, "metric": None}
        if self.network.batchnorm_layers() and val["n"] >= 2:
            other = self.evaluate("val", other_bn_mode(self.config.eval_bn_stats))
        grad_norms = {label: total / max(progress.batch, 1)
                      for label, total in zip(self._grad_layers, progress.grad_norm_sums)}
        bn_stats = {index: (*stats, layer.buffers["running_mean"].copy(),
                            layer.buffers["running_var"].copy())
                    for index, stats in progress.bn_stats.items()
                    for layer in [self.network.layers[index]]}
        self._progress = None
        self.diverged = None
        self._tick()
        snapshot = EpochSnapshot(
            self.epoch, self.step, progress.loss_sum / rows, progress.data_loss_sum / rows,
            train_metric, val["loss"], val["data_loss"], val["metric"], other["loss"],
            other["metric"], self.metric_name, grad_norms, self.optimizer.lr, self.elapsed, bn_stats,
            progress.bn_rows)
        entry = snapshot.history_entry()
        self.history.append(entry)
        if self.health is not None:  # fills the entry's "layers" when it computes them
            self.health.close_epoch(self.epoch, grad_norms, entry)
        return snapshot

    # -- divergence -----------------------------------------------------------------
    def _diverge(self, x: np.ndarray, y: np.ndarray, outputs: np.ndarray, progress: EpochProgress,
                 data_loss: float) -> DivergedSnapshot:
        """Name the first bad layer (before restoring, while the bad weights are there),
        then keep the last good weights, a fresh optimizer, and drop the partial epoch."""
        cause = None if math.isfinite(data_loss) else target_scale_cause(outputs, y)
        kind, index, what = ("loss", None, cause) if cause else self._describe_failure(
            x, y, outputs, data_loss)
        failed_step = self.step + 1
        where = (f"epoch {self.epoch + 1}, batch {progress.batch + 1} of {self.batches_per_epoch}"
                 f" (step {failed_step})")
        kept = self._backup.restore()
        if kept is not None:
            self.step = kept[2]
        # The optimizer's moments were accumulated on the way to divergence: start afresh.
        self.optimizer = self.config.make_optimizer()
        self._progress = None
        if self.health is not None:
            self.health.discard_epoch()
        self._tick()
        self.diverged = DivergedSnapshot(
            self.epoch + 1, progress.batch + 1, failed_step, kind, index,
            None if index is None else layer_label(self.network, index),
            divergence_message(where, what, kept, *([TARGET_SCALE_ADVICE] if cause else [])),
            self.elapsed)
        return self.diverged

    def _describe_failure(self, x: np.ndarray, y: np.ndarray, outputs: np.ndarray,
                          data_loss: float) -> tuple[str, int | None, str]:
        """(kind, first bad layer or None, what happened) for the divergence message."""
        network, bn_stats = self.network, self.config.bn_stats
        if math.isfinite(data_loss):
            index, loss_gradient_bad = first_bad_gradient(network, x, y, bn_stats)
            if index is not None:
                return "gradient", index, (f"the gradient of layer {layer_label(network, index)} "
                                           "became NaN or infinite")
            if loss_gradient_bad:
                return "gradient", None, (f"the gradient of the loss ({network.loss.type_name}) "
                                          "became NaN or infinite")
            return "gradient", None, "the gradient of the L1/L2 penalty became NaN or infinite"
        index = first_bad_activation(network, x, bn_stats)
        if index is not None:
            what = f"layer {layer_label(network, index)} produced NaN or infinity in the forward pass"
            if not weights_finite(network, index):
                what += " (its weights are NaN or infinite)"
            return "activation", index, what
        # every layer's output was finite: the loss itself overflowed
        what = f"the loss ({network.loss.type_name}) became NaN or infinite"
        if not network.layers:
            return "loss", None, what
        index = len(network.layers) - 1
        return "loss", index, (f"the outputs of layer {layer_label(network, index)} grew to "
                               f"{float(np.max(np.abs(outputs))):.3g} and {what}")

    # -- bookkeeping ----------------------------------------------------------------
    def _tick(self) -> None:
        now = perf_counter()
        self.elapsed += now - self._t0
        self._t0 = now

    def _bind_network(self) -> None:
        """Cache the network's arrays; refreshed at every ``run`` in case it was rebuilt."""
        network = self.network
        self._grad_layers = layer_gradients(network)
        self._grad_views = [grad for grads in self._grad_layers.values() for grad in grads]
        # which layer each view belongs to, when some layer has several (no packing)
        self._view_layers = None if len(self._grad_views) == len(self._grad_layers) else [
            position for position, grads in enumerate(self._grad_layers.values()) for _ in grads]
        self._backup = WeightBackup(network)
        if self.health is not None and not self.health.fits(network):
            live = self.health.live
            self.health = HealthRecorder(network)
            self.health.live = live
        self._n_outputs = network.output_dim
        self._train_ctx = Context.train(self.rng, bn_stats=self.config.bn_stats)

    def _check_batchnorm_batches(self, config: TrainConfig) -> None:
        ctx = Context.train(self.rng, bn_stats=config.bn_stats)
        uses_batch = any(layer.uses_batch_stats(ctx) for _, layer in self.network.batchnorm_layers())
        if uses_batch and min(config.batch_size, self.n_train) < 2:
            raise ValueError("BatchNorm with batch statistics needs batches of at least 2 samples: "
                             f"batch_size is {config.batch_size}, {self.n_train} training rows")
