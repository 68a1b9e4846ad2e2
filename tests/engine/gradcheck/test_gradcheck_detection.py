"""Detection: every catalog fault, in several positions of several networks, is found
where its gradient flows — and nowhere else."""
import numpy as np
import pytest

from nnstudio.engine import build_network
from nnstudio.engine.faults import catalog
from nnstudio.engine.gradcheck import CheckConfig, GradientChecker

NETWORKS = {
    "mixed": ("dense:6,batchnorm,relu,dropout:0.3,dense:5,tanh,dense:4,sigmoid,dense:5,leakyrelu:0.1",
              "classification", 3),
    "reordered": ("dense:5,leakyrelu:0.1,dense:6,sigmoid,batchnorm,dense:4,relu,dropout:0.5,"
                  "dense:5,tanh,batchnorm", "regression", 2),
    "twice": ("dense:4,tanh,dropout:0.2,dense:6,relu,batchnorm,dense:5,sigmoid,dense:4,relu,"
              "batchnorm,dense:4,leakyrelu:0.2,dense:3,sigmoid,dense:3,tanh", "classification", 4),
}
# Faults that only change their own layer's parameter gradient; all others change dx.
OWN_TENSOR = {("dense", "bias_not_summed"): "b", ("dense", "weight_grad_averaged"): "W",
              ("batchnorm", "gamma_grad_without_xhat"): "gamma"}


def _case(name: str):
    spec, task, outputs = NETWORKS[name]
    rng = np.random.default_rng(len(spec))
    network = build_network(spec, 5, task, outputs, seed=3)
    x = rng.normal(0, 1.5, (10, 5))
    y = rng.integers(0, outputs, 10) if task == "classification" else rng.normal(0, 1, (10, outputs))
    return network, x, y


def _layer_cases():
    for name, (spec, _, _) in NETWORKS.items():
        network = _case(name)[0]
        for fault in catalog():
            if fault.is_loss:
                continue
            for index, layer in enumerate(network.layers):
                if layer.type_name == fault.owner:
                    yield pytest.param(name, index, fault.name, id=f"{name}-{index}-{fault.name}")


def _expected(network, index: int, fault: str) -> set[str]:
    """Where the fault's gradient flows: its own tensor, or every tensor upstream
    (parameters of earlier layers, and the input gradients of this layer and earlier)."""
    layer = network.layers[index]
    own = OWN_TENSOR.get((layer.type_name, fault))
    if own is not None:
        return {f"{index}.{own}"}
    upstream = {name for _, name, _, _ in network.named_parameters()
                if int(name.split(".")[0]) < index}
    return upstream | {f"{k}.<input>" for k in range(index + 1)}


def _gradients(checker) -> dict:
    grads = dict(checker.objective.gradients)
    grads.update({f"{k}.<input>": g for k, g in enumerate(checker.objective.input_gradients)})
    return grads


def _changed(network, x, y, config, index, fault) -> set[str]:
    """Tensors whose analytic gradient the fault changes (an independent oracle)."""
    clean = _gradients(GradientChecker(network, x, y, config))
    network.layers[index].set_fault(fault)
    try:
        broken = _gradients(GradientChecker(network, x, y, config))
    finally:
        network.layers[index].set_fault(None)
    return {name for name in clean
            if np.max(np.abs(broken[name] - clean[name]) / (np.abs(clean[name]) + 1e-3)) > 1e-2}


@pytest.mark.parametrize("name, index, fault", list(_layer_cases()))
def test_each_layer_fault_is_found_where_its_gradient_flows(name, index, fault):
    network, x, y = _case(name)
    config = CheckConfig(bn_stats="batch")
    changed = _changed(network, x, y, config, index, fault)
    network.layers[index].set_fault(fault)
    report = GradientChecker(network, x, y, config).run()
    # a mismatching element, or (inputs checked on a few rows) a mismatching direction
    flagged = {t.name for t in report.tensors if t.status == "mismatch"}
    assert flagged <= _expected(network, index, fault)
    assert changed <= flagged, f"{sorted(changed - flagged)} changed but were not flagged"
    assert report.passed == (not changed)
    if changed:  # the culprit is the layer the fault is in, never one it only lands on
        assert {c.layer_index for c in report.culprits} == {index}, report.format_text()
        own = OWN_TENSOR.get((network.layers[index].type_name, fault))
        assert {c.part for c in report.culprits} == ({"parameters"} if own else {"input"})
        roles = {r.index: r.role for r in report.roles}
        assert all(roles[k] in ("affected", "ok", "kink") for k in range(index))
    network.layers[index].set_fault(None)
    assert GradientChecker(network, x, y, config).run().passed  # switching off restores it


def test_every_layer_fault_is_detected_somewhere():
    """Each catalog entry has at least one position where the check fails."""
    detected = set()
    for name in NETWORKS:
        network, x, y = _case(name)
        for fault in catalog():
            for index, layer in enumerate(network.layers):
                if fault.is_loss or layer.type_name != fault.owner:
                    continue
                layer.set_fault(fault.name)
                if not GradientChecker(network, x, y, CheckConfig(samples_per_tensor=6)).run().passed:
                    detected.add((fault.owner, fault.name))
                layer.set_fault(None)
    layer_faults = {(f.owner, f.name) for f in catalog() if not f.is_loss and f.owner in
                    {"dense", "relu", "leakyrelu", "tanh", "sigmoid", "batchnorm", "dropout"}}
    assert layer_faults <= detected


@pytest.mark.parametrize("name", ["mixed", "reordered"])
def test_each_loss_fault_corrupts_every_tensor(name):
    network, x, y = _case(name)
    for fault in network.loss.FAULTS:
        network.loss.set_fault(fault)
        report = GradientChecker(network, x, y, CheckConfig(bn_stats="running")).run()
        network.loss.set_fault(None)
        assert not report.passed
        flagged = {t.name for t in report.tensors if t.mismatch}
        assert flagged == {t.name for t in report.tensors}, fault
        assert [(c.part, c.layer_index) for c in report.culprits] == \
            [("loss", len(network.layers))], fault


def test_batchnorm_input_faults_need_batch_statistics():
    """With running statistics BatchNorm's dx has no mean or variance path: nothing to get wrong."""
    network, x, y = _case("mixed")
    for fault in ("no_mean_path", "no_variance_path", "missing_1_over_n"):
        network.layers[1].set_fault(fault)
        assert not GradientChecker(network, x, y, CheckConfig(bn_stats="batch")).run().passed
        assert GradientChecker(network, x, y, CheckConfig(bn_stats="running")).run().passed
    network.layers[1].set_fault("gamma_grad_without_xhat")
    report = GradientChecker(network, x, y, CheckConfig(bn_stats="running")).run()
    assert {t.name for t in report.tensors if t.mismatch} == {"1.gamma"}
    assert [(c.layer_index, c.part) for c in report.culprits] == [(1, "parameters")]


def test_relu_fault_shows_only_through_inactive_units():
    """gradient_not_masked differs from the truth only where the ReLU input is negative."""
    network = build_network("dense:4,relu", 3, "regression", 1, seed=0, dtype=np.float64)
    network.layers[0].params["b"][:] = [5.0, 5.0, -5.0, 5.0]  # unit 2 always off, others on
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 0.3, (6, 3)), rng.normal(size=(6, 1))
    network.layers[1].set_fault("gradient_not_masked")
    report = GradientChecker(network, x, y).run()
    flagged = {(r.tensor, r.index[-1]) for r in report.mismatches}
    assert flagged == {("0.W", 2), ("0.b", 2), ("0.<input>", 0), ("0.<input>", 1),
                       ("0.<input>", 2), ("1.<input>", 2)}
    assert [(c.layer_index, c.part) for c in report.culprits] == [(1, "input")]
