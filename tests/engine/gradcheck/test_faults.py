"""The fault catalog: every layer type and loss, readable explanations, on and off."""
import numpy as np
import pytest

from nnstudio.engine import LOSS_TYPES, build_network
from nnstudio.engine.faults import (LOSS_TARGET, active_faults, apply_fault_spec, catalog,
                                    clear_faults, faults_for, set_fault)

BUILTIN_TYPES = {"dense", "relu", "leakyrelu", "tanh", "sigmoid", "batchnorm", "dropout"}


def test_catalog_covers_every_layer_type_and_loss_with_explanations():
    entries = catalog()
    owners = {fault.owner for fault in entries}
    assert BUILTIN_TYPES | set(LOSS_TYPES) <= owners
    assert all(len(fault.explanation) > 20 and fault.name.isidentifier() for fault in entries)
    assert {f.name for f in entries if f.owner == "batchnorm"} >= {"no_mean_path", "missing_1_over_n"}
    assert {f.name for f in entries if f.owner == "dropout"} == {"mask_not_applied", "no_rescale"}
    assert {f.name for f in entries if f.is_loss and f.owner == "softmax_cross_entropy"} >= {"not_divided_by_batch"}
    assert entries[0].to_dict().keys() == {"owner", "name", "explanation", "is_loss"}


def test_set_and_clear_faults_on_a_network():
    network = build_network("dense:4,batchnorm,relu", 3, "classification", 2, seed=0)
    set_fault(network, 1, "no_mean_path")
    set_fault(network, "loss", "wrong_sign")
    assert active_faults(network) == [(1, "no_mean_path"), (LOSS_TARGET, "wrong_sign")]
    assert faults_for(network.layers[1]) == network.layers[1].FAULTS
    set_fault(network, 1, None)
    assert active_faults(network) == [(LOSS_TARGET, "wrong_sign")]
    clear_faults(network)
    assert active_faults(network) == []


def test_fault_specs_by_index_type_or_loss():
    network = build_network("dense:4,batchnorm,relu,dense:3,relu", 3, "regression", 1, seed=0)
    assert apply_fault_spec(network, "batchnorm:missing_1_over_n") == (1, "missing_1_over_n")
    assert apply_fault_spec(network, "4:inverted_mask") == (4, "inverted_mask")
    assert apply_fault_spec(network, "loss:missing_factor_2") == ("loss", "missing_factor_2")
    assert network.loss.fault == "missing_factor_2"


@pytest.mark.parametrize("spec, message", [
    ("nothing", "LAYER:FAULT"), ("relu:inverted_mask", "matches layers"),
    ("9:bias_not_summed", "out of range"), ("conv:x", "no layer 'conv'"),
    ("0:no_such_fault", "known faults: bias_not_summed"),
])
def test_bad_fault_specs_say_what_to_write(spec, message):
    network = build_network("dense:4,relu,dense:3,relu", 3, "regression", 1, seed=0)
    with pytest.raises(ValueError, match=message):
        apply_fault_spec(network, spec)


def test_a_fault_changes_only_backward():
    network = build_network("dense:4,tanh", 3, "classification", 2, seed=0)
    x = np.random.default_rng(0).normal(size=(5, 3))
    before = network.predict(x)
    set_fault(network, 1, "wrong_derivative")
    assert np.array_equal(network.predict(x), before)
