"""The report: the documented JSON object and the terminal table."""
import json

import numpy as np

from nnstudio.engine import build_network
from nnstudio.engine.gradcheck import FORMAT, CheckConfig, GradientChecker

ELEMENT_KEYS = {"tensor", "layer_index", "index", "flat_index", "analytic", "numeric", "abs_error",
                "rel_error", "verdict", "f_plus", "f_minus", "kinks", "rule"}


def _report(fault=None, **config):
    rng = np.random.default_rng(0)
    network = build_network("dense:5,batchnorm,relu,dense:4,tanh", 3, "classification", 3, seed=0)
    if fault:
        network.layers[3].set_fault(fault)
    checker = GradientChecker(network, rng.normal(size=(8, 3)), rng.integers(0, 3, 8),
                              CheckConfig(**config))
    if config.get("screen_first"):
        checker.screen()
    return checker.run()


def test_json_object_shape():
    data = json.loads(json.dumps(_report("weight_grad_averaged").to_dict(), allow_nan=False))
    assert data["format"] == FORMAT and data["passed"] is False and data["complete"] is True
    assert {"h", "rtol", "atol", "atol_effective", "bn_stats", "dropout", "seed", "batch_size",
            "include_regularization", "samples_per_tensor"} <= data["settings"].keys()
    # every layer's input, and the output; up to BatchNorm on batch statistics (rows mix
    # there) 4 of the 8 rows, and random directions
    inputs = 4 * (3 + 5) + 8 * (5 + 5 + 4 + 4) + 8 * 3
    assert data["totals"]["checked"] == data["network"]["parameters"] + inputs == 69 + inputs
    assert [layer["index"] for layer in data["layers"]] == [0, 1, 2, 3, 4, 5, 6]
    assert data["layers"][3]["role"] == "culprit" and data["layers"][2]["role"] == "ok"
    assert data["layers"][3]["input_gradient"]["status"] == "ok"
    assert data["culprits"] == [{"layer_index": 3, "label": "Dense(4)", "part": "parameters",
                                 "max_rel_error": data["culprits"][0]["max_rel_error"],
                                 "tensors": ["3.W"], "located": True,
                                 "message": data["culprits"][0]["message"]}]
    tensor = data["tensors"][0]
    assert {"name", "layer_index", "layer_label", "param", "kind", "shape", "planned", "checked",
            "ok", "kink", "mismatch", "unverifiable", "max_abs_error", "max_rel_error", "status",
            "worst"} <= tensor.keys()
    assert len(data["mismatches"]) == 20 and {m["tensor"] for m in data["mismatches"]} == {"3.W"}
    assert {m["rule"] for m in data["mismatches"]} == {"confirmed"}
    assert set(data["mismatches"][0]) == ELEMENT_KEYS
    assert data["screen"] is None and data["kinks"] == [] and data["problems"] == []


def test_text_table_names_layers_verdicts_and_worst_elements():
    text = _report("weight_grad_averaged").format_text()
    assert "0 Dense(5)" in text and "1 BatchNorm" in text and "MISMATCH" in text
    assert "Worst mismatches:" in text and "3.W[" in text
    assert text.splitlines()[-1].startswith("FAIL: 20 mismatches")
    assert _report().format_text().splitlines()[-1].startswith("PASS: 0 mismatches")


def test_screen_results_are_in_the_report():
    data = _report("bias_not_summed", screen_first=True).to_dict()
    assert [s["tensor"] for s in data["screen"]] == [t["name"] for t in data["tensors"]]
    assert {s["tensor"] for s in data["screen"] if s["verdict"] == "mismatch"} == {"3.b"}
