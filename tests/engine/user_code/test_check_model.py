"""A whole hand-written network (cs231n's FullyConnectedNet protocol) is checked honestly:
correct passes, each planted bug fails naming its tensors, the model is left bit-identical."""
import importlib
import shutil
import sys

import numpy as np
import pytest

import nnstudio
from nnstudio.engine.gradcheck import CheckReport, PhasedReport
from nnstudio.engine.user_code import UserCodeError
from nnstudio.resources import resource_path

SETTINGS = dict(hidden_dims=[7, 6], normalization="batchnorm", dropout_keep_ratio=0.8, reg=0.1,
                dtype=np.float64, weight_scale=0.4, seed=3)


def package(tmp_path, old=None, new=None, file="classifiers/fc_net.py"):
    """The example cs231n package copied under tmp_path, optionally with one planted bug."""
    root = tmp_path / "cs231n"
    shutil.copytree(resource_path("examples", "cs231n"), root)
    if old is not None:
        path = root / file
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new), encoding="utf-8")
    for name in [n for n in sys.modules if n == "cs231n" or n.startswith("cs231n.")]:
        del sys.modules[name]
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module("cs231n.classifiers.fc_net")
    finally:
        sys.path.remove(str(tmp_path))


def data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((10, 5)) * 2 + 1, rng.integers(0, 3, 10)


def snapshot(model):
    """Everything the model holds, copied, for a bit-identical comparison."""
    return {"params": {k: v.copy() for k, v in model.params.items()},
            "bn": [{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in p.items()}
                   for p in model.bn_params],
            "dropout": dict(model.dropout_param), "mode": model.mode, "dtype": model.dtype}


def assert_identical(before, model):
    after = snapshot(model)
    assert before.keys() == after.keys()
    for key in ("dropout", "mode", "dtype"):
        assert before[key] == after[key]
    for name, value in before["params"].items():
        assert after["params"][name].dtype == value.dtype
        np.testing.assert_array_equal(after["params"][name], value)
    assert len(before["bn"]) == len(after["bn"])
    for old, new in zip(before["bn"], after["bn"]):
        assert old.keys() == new.keys()
        for key in old:
            np.testing.assert_array_equal(new[key], old[key])


def failing_tensors(report):
    """phase -> names of its tensors with a mismatch (phases without any left out)."""
    found = {phase: [t.name for t in r.tensors if t.mismatch] for phase, r in report.phases.items()}
    return {phase: names for phase, names in found.items() if names}


def trained(module):
    """A model as after some training: running statistics of its own, gamma and beta moved
    away from 1 and 0 (where a bug that forgets gamma cannot show)."""
    model = module.FullyConnectedNet(input_dim=5, num_classes=3, **SETTINGS)
    x, y = data(1)
    rng = np.random.default_rng(7)
    for name in [n for n in model.params if n.startswith(("gamma", "beta"))]:
        model.params[name] += 0.3 * rng.standard_normal(model.params[name].shape)
    for _ in range(3):
        model.loss(x, y)
    return model


def test_a_correct_network_passes_in_both_phases_and_is_left_bit_identical(tmp_path):
    model = trained(package(tmp_path))
    before = snapshot(model)
    global_state = np.random.get_state()[1].copy()
    report = nnstudio.check_model(model, *data())
    assert isinstance(report, PhasedReport) and report.passed, report.format_text()
    assert set(report.phases) == {"fit", "predict"} and not report.notes
    fit = report.phases["fit"]
    assert isinstance(fit, CheckReport) and fit.totals["unverifiable"] == 0
    assert [t.name for t in fit.tensors][:4] == ["W1", "b1", "gamma1", "beta1"]
    assert_identical(before, model)
    np.testing.assert_array_equal(np.random.get_state()[1], global_state)
    data_json = report.to_dict()
    assert data_json["phases"]["predict"]["passed"]
    assert data_json["phases"]["fit"]["tensors"][0]["name"] == "W1"


@pytest.mark.parametrize("old, new, failing", [
    # L2 forgotten in the hidden layers' dW: the W* of those layers mismatch
    ('grads[f"W{i}"], grads[f"b{i}"] = dw + self.reg * self.params[f"W{i}"], db',
     'grads[f"W{i}"], grads[f"b{i}"] = dw, db', {"fit": ["W1", "W2"], "predict": ["W1", "W2"]}),
    # the last layer's bias gradient averaged instead of summed
    ('grads[f"W{last}"], grads[f"b{last}"] = dw + self.reg * self.params[f"W{last}"], db',
     'grads[f"W{last}"], grads[f"b{last}"] = dw + self.reg * self.params[f"W{last}"], db / 10',
     {"fit": ["b3"], "predict": ["b3"]}),
])
def test_each_planted_bug_in_the_network_fails_naming_its_tensors(tmp_path, old, new, failing):
    model = trained(package(tmp_path, old, new))
    before = snapshot(model)
    report = nnstudio.check_model(model, *data())
    assert not report.passed
    assert failing_tensors(report) == failing
    assert_identical(before, model)


@pytest.mark.parametrize("old, new, phase, must_fail", [
    ("N * dxhat - dxhat.sum(axis=0) -", "N * dxhat -", "fit", "W1"),          # BN mean path
    ("return dout * mask", "return dout", "fit", "W1"),                         # dropout mask
    ("return dout * gamma * inv_std, dgamma, dbeta", "return dout * inv_std, dgamma, dbeta",
     "predict", "W1"),                                                          # test-mode BN dx
])
def test_each_planted_bug_in_a_layer_fails_in_its_phase(tmp_path, old, new, phase, must_fail):
    model = trained(package(tmp_path, old, new, file="layers.py"))
    before = snapshot(model)
    report = nnstudio.check_model(model, *data())
    failing = failing_tensors(report)
    assert not report.passed and list(failing) == [phase] and must_fail in failing[phase]
    assert_identical(before, model)


def test_a_fresh_model_without_set_mode_checks_the_fit_phase_and_says_why(tmp_path):
    module = package(tmp_path)
    model = module.FullyConnectedNet(input_dim=5, num_classes=3, **SETTINGS)
    del module.FullyConnectedNet.set_mode  # the course's class has none
    report = nnstudio.check_model(model, *data())
    assert report.passed and list(report.phases) == ["fit"] and "no set_mode" in report.notes["fit"][0]
    assert model.bn_params[0] == {"mode": "train"}  # the fresh model's empty statistics stay so


def test_predict_phase_of_a_fresh_model_uses_the_batch_statistics(tmp_path):
    model = package(tmp_path).make_model(5, 3)
    report = nnstudio.check_model(model, *data())
    assert report.passed and "fit-mode passes" in report.notes["predict"][0]
    assert "running_mean" not in model.bn_params[0]


def test_a_float32_model_is_checked_in_float64(tmp_path):
    model = package(tmp_path).FullyConnectedNet(input_dim=5, num_classes=3,
                                                **{**SETTINGS, "dtype": np.float32})
    report = nnstudio.check_model(model, *data())
    assert report.passed and model.params["W1"].dtype == np.float32


def test_wrong_gradient_shapes_are_errors_naming_the_model_file(tmp_path):
    module = package(tmp_path, "    return dx, dgamma, dbeta\n", "    return dx, dgamma[None, :], dbeta\n",
                     file="layers.py")
    with pytest.raises(UserCodeError, match=r"grads\['gamma1'\] has shape \(1, 7\), "
                                            r"params\['gamma1'\] has \(7,\)") as caught:
        nnstudio.check_model(trained(module), *data())
    assert caught.value.path.endswith("fc_net.py")


def test_an_exception_in_the_loss_names_its_file_and_line(tmp_path):
    module = package(tmp_path, "X = X.astype(self.dtype)", "X = X.astype(self.dtype)[:, :99][99]")
    with pytest.raises(UserCodeError, match=r"fc_net.py:\d+: IndexError"):
        nnstudio.check_model(module.FullyConnectedNet(input_dim=5, num_classes=3, **SETTINGS),
                             *data())


def test_a_model_without_the_protocol_is_refused():
    class NoParams:
        def loss(self, X, y):
            return 0.0, {}
    with pytest.raises(ValueError, match="no non-empty 'params' dict"):
        nnstudio.check_model(NoParams(), *data())
