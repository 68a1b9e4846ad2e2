"""The verdict names, their array codes and their order of badness: one definition each."""
import numpy as np

from nnstudio.engine import build_network
from nnstudio.engine.gradcheck import (KINK, MISMATCH, OK, UNVERIFIABLE, CheckConfig,
                                       GradientChecker)
from nnstudio.engine.gradcheck.culprits import worst_status
from nnstudio.engine.gradcheck.summary import UNCHECKED, status_of, verdict_counts
from nnstudio.engine.gradcheck.verdict import (CODE_KINK, CODE_MISMATCH, CODE_OK,
                                               CODE_UNVERIFIABLE, SEVERITY, VERDICT_CODES,
                                               VERDICT_NAMES)


def test_codes_and_names_are_two_views_of_one_list():
    assert set(VERDICT_NAMES) == {OK, KINK, MISMATCH, UNVERIFIABLE} == set(SEVERITY)
    assert [VERDICT_CODES[name] for name in VERDICT_NAMES] == list(range(len(VERDICT_NAMES)))
    assert (VERDICT_CODES[OK], VERDICT_CODES[KINK], VERDICT_CODES[MISMATCH],
            VERDICT_CODES[UNVERIFIABLE]) == (CODE_OK, CODE_KINK, CODE_MISMATCH, CODE_UNVERIFIABLE)


def test_the_worst_verdict_wins_in_the_order_a_status_uses():
    assert sorted(SEVERITY, key=SEVERITY.get) == [OK, KINK, UNVERIFIABLE, MISMATCH]
    assert worst_status([OK, KINK, None, UNCHECKED]) == KINK
    assert worst_status([KINK, MISMATCH, UNVERIFIABLE]) == MISMATCH
    # status_of applies the same order to counts
    assert status_of(checked=3, kink=1, mismatch=0, unverifiable=1) == UNVERIFIABLE


def test_verdict_counts_add_up_the_elements_of_a_check():
    rng = np.random.default_rng(0)
    network = build_network("dense:5,relu,dense:4,tanh", 3, "classification", 3, seed=0)
    network.layers[2].set_fault("weight_grad_averaged")
    checker = GradientChecker(network, rng.normal(size=(8, 3)), rng.integers(0, 3, 8),
                              CheckConfig())
    report = checker.run()
    counts = verdict_counts(report.tensors)
    assert list(counts) == list(VERDICT_NAMES)
    assert sum(counts.values()) == report.totals["checked"] and counts[MISMATCH] > 0
    assert {key: report.totals[key] for key in VERDICT_NAMES} == counts
