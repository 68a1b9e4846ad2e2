"""BundledRun without Qt: bundles wait for the consumer's acknowledgement, step(n) counts the
step items, stop closes the generator, probes run at bundle time, holds delay the run."""
from __future__ import annotations

import threading
import time

from nnstudio.engine.bundled_run import BundledRun, Probe

NO_RATE_LIMIT = 1e9


def drive_in_thread(run: BundledRun, acknowledge: bool = True):
    """Drive ``run.run()`` in a thread; (bundles received, result holder, thread)."""
    bundles, result = [], {}

    def drive():
        generator = run.run()
        while True:
            try:
                bundle = next(generator)
            except StopIteration as end:
                result["value"] = end.value
                return
            bundles.append(bundle)
            if acknowledge:
                run.acknowledge()

    thread = threading.Thread(target=drive, daemon=True)
    thread.start()
    return bundles, result, thread


def wait_for(condition, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.002)


def items(bundles) -> list:
    return [item for bundle in bundles for item in bundle.items]


def test_no_second_bundle_before_the_first_is_acknowledged():
    def numbers():
        yield from range(1000)
        return "done"

    run = BundledRun(numbers, max_rate=NO_RATE_LIMIT)
    generator = run.run()
    first = next(generator)
    assert first.items == [0]
    # not acknowledged: the other 999 items wait, and come in one bundle at the end
    rest = next(generator)
    assert rest.items == list(range(1, 1000))
    try:
        next(generator)
    except StopIteration as end:
        assert end.value == "done"
    else:
        raise AssertionError("the run went on after the generator ended")


def test_acknowledged_bundles_hold_every_item_in_order_at_the_rate_limit():
    def numbers():
        for i in range(3000):
            time.sleep(0.0001)
            yield i

    run = BundledRun(numbers, max_rate=20)
    bundles, result, thread = drive_in_thread(run)
    thread.join(10)
    assert items(bundles) == list(range(3000)) and result == {"value": None}
    sizes = [len(bundle.items) for bundle in bundles]
    assert len(bundles) < 50, sizes  # coalesced at 20 a second, not one per item


def test_step_runs_exactly_the_step_items_then_pauses_by_itself():
    pulled, paused_by_step = [], threading.Event()

    def snapshots():
        for i in range(100):
            pulled.append(i)
            yield ("epoch", i) if i % 3 == 2 else ("batch", i)

    run = BundledRun(snapshots, max_rate=NO_RATE_LIMIT, is_step=lambda item: item[0] == "batch",
                     on_self_pause=paused_by_step.set)
    run.pause()
    run.step(3)
    bundles, _result, thread = drive_in_thread(run)
    assert paused_by_step.wait(5) and run.wait_until_held(5)
    assert run.paused and run.held
    # three batches (0, 1, 3); the epoch item 2 does not count
    assert items(bundles) == [("batch", 0), ("batch", 1), ("epoch", 2), ("batch", 3)]
    assert pulled == [0, 1, 2, 3]
    run.resume()
    thread.join(5)
    assert len(items(bundles)) == 100 and not run.held


def test_stop_while_paused_closes_the_generator_and_returns_none():
    closed = threading.Event()

    def forever():
        try:
            while True:
                yield 1
        finally:
            closed.set()

    run = BundledRun(forever)
    bundles, result, thread = drive_in_thread(run)
    wait_for(lambda: len(bundles) > 0)
    run.pause()
    assert run.wait_until_held(2)
    run.stop()
    thread.join(2)
    assert not thread.is_alive() and closed.is_set() and result == {"value": None}
    assert run.stopped


def test_an_error_of_the_generator_reaches_the_driver_after_closing_it():
    def broken():
        yield 1
        raise RuntimeError("layer 3 exploded")

    generator = BundledRun(broken, max_rate=NO_RATE_LIMIT).run()
    assert next(generator).items == [1]
    try:
        next(generator)
    except RuntimeError as exc:
        assert "layer 3 exploded" in str(exc)
    else:
        raise AssertionError("the error was swallowed")


def test_probes_run_in_the_runs_thread_at_their_interval_and_on_every_forced_bundle():
    threads, calls = [], []
    every_time = Probe("where", lambda: threads.append(threading.current_thread()) or "x", 0.0)
    rarely = Probe("rare", lambda: calls.append(1) or len(calls), interval=3600.0)

    def numbers():
        for i in range(200):
            time.sleep(0.0005)
            yield i

    run = BundledRun(numbers, max_rate=200, probes=[every_time, rarely])
    bundles, _result, thread = drive_in_thread(run)
    thread.join(10)
    assert len(bundles) > 2
    assert all(bundle.probes["where"] == "x" for bundle in bundles)
    assert threads and all(t is thread for t in threads)
    # once at the first bundle, once at the forced last one; not in between
    assert calls == [1, 1] and bundles[-1].probes["rare"] == 2
    assert all("rare" not in bundle.probes for bundle in bundles[1:-1])


def test_a_hold_makes_the_run_wait_once_at_most_its_limit():
    pulled = []

    def forever():
        while True:
            pulled.append(None)
            yield len(pulled)

    run = BundledRun(forever)
    _bundles, _result, thread = drive_in_thread(run)
    wait_for(lambda: len(pulled) > 100)
    run.hold(longest=5.0)
    run.hold(longest=5.0)  # holds nest
    time.sleep(0.02)       # the run finishes the item it is in
    before = len(pulled)
    time.sleep(0.1)
    assert len(pulled) - before <= 1
    run.release()
    time.sleep(0.05)
    assert len(pulled) - before <= 1, "still held: one hold is open"
    run.release()
    assert run.holds == 0
    wait_for(lambda: len(pulled) > before + 100)
    # a hold longer than its limit slows the run but does not stop it
    run.hold(longest=0.05)
    wait_for(lambda: len(pulled) > before + 1000, timeout=5.0)
    run.release()
    run.stop()
    thread.join(2)
    assert not thread.is_alive()

