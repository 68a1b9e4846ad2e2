"""Redraw pacing: a fixed interval, stretched when every recent draw is slow, capped."""
from __future__ import annotations

import pytest

from nnstudio.gui.redraw_pacer import RedrawPacer


def test_first_redraw_is_due_at_once_then_after_the_interval():
    pacer = RedrawPacer(interval=0.25, budget=0.05)
    assert pacer.delay(now=10.0) == 0.0
    pacer.record(started=10.0, duration=0.002)
    assert pacer.delay(now=10.1) == pytest.approx(0.15)
    assert pacer.delay(now=10.3) == 0.0


def test_slow_draws_stretch_the_interval_to_the_budget():
    pacer = RedrawPacer(interval=0.25, budget=0.05)
    for start in range(5):
        pacer.record(started=float(start), duration=0.020)  # 20 ms: 5 % of 0.4 s
    assert pacer.current_interval() == pytest.approx(0.4)


def test_slow_draws_among_fast_ones_do_not_push_the_next_one_away():
    pacer = RedrawPacer(interval=0.25, budget=0.05)
    pacer.record(started=0.0, duration=0.9)  # the first draws lay out every plot
    pacer.record(started=1.0, duration=0.03)
    pacer.record(started=1.25, duration=0.004)
    assert pacer.current_interval() == pytest.approx(0.25)
    assert pacer.delay(now=1.3) == pytest.approx(0.2)


def test_a_slow_first_draw_alone_does_not_stretch_the_interval():
    pacer = RedrawPacer(interval=0.25, budget=0.03)
    pacer.record(started=0.0, duration=0.05)  # would mean 1.7 s between redraws
    assert pacer.current_interval() == pytest.approx(0.25)
    assert pacer.delay(now=0.3) == 0.0


def test_the_stretch_is_capped():
    pacer = RedrawPacer(interval=0.25, budget=0.05, longest=1.0)
    for start in range(5):
        pacer.record(started=float(start), duration=0.5)
    assert pacer.current_interval() == 1.0



def test_a_redraw_due_within_the_slack_is_drawn_at_once():
    pacer = RedrawPacer(interval=0.25, budget=0.03, slack=0.2)
    assert pacer.wait(now=5.0) == 0.0  # nothing drawn yet
    pacer.record(started=5.0, duration=0.001)
    assert pacer.wait(now=5.1) == pytest.approx(0.15)  # 150 ms to go: worth a wake-up
    assert pacer.wait(now=5.21) == 0.0  # 40 ms to go, within 20 % of 250 ms: draw now
    assert pacer.wait(now=5.3) == 0.0


def test_without_slack_the_wait_is_the_delay():
    pacer = RedrawPacer(interval=0.25, budget=0.03)
    pacer.record(started=0.0, duration=0.001)
    assert pacer.wait(now=0.24) == pytest.approx(pacer.delay(now=0.24)) == pytest.approx(0.01)
