"""Workers: bundles are coalesced, pause/step/stop act between yields, errors are reported."""
from __future__ import annotations

import threading
import time

from nnstudio.gui.workers import FunctionWorker, GeneratorWorker, Probe


class Collector:
    def __init__(self, worker) -> None:
        self.items, self.bundles, self.probes = [], 0, []
        self.worker = worker

    def __call__(self, bundle) -> None:
        self.bundles += 1
        self.items.extend(bundle.items)
        self.probes.append(bundle.probes)
        self.worker.acknowledge()


def test_fast_generator_arrives_in_few_bundles_with_every_item(qtbot):
    def numbers():
        for i in range(20000):
            yield i
        return "done"

    worker = GeneratorWorker(numbers, max_rate=30)
    collect = Collector(worker)
    worker.yielded.connect(collect)
    with qtbot.waitSignal(worker.returned, timeout=10000) as returned:
        worker.start()
    qtbot.waitUntil(lambda: worker.is_finished() and len(collect.items) == 20000)
    assert returned.args == ["done"]
    assert collect.items == list(range(20000))
    assert collect.bundles < 200


def test_step_runs_exactly_one_item_then_pauses_and_stop_ends_it(qtbot):
    pulled = []

    def numbers():
        for i in range(1000):
            pulled.append(i)
            yield i

    worker = GeneratorWorker(numbers)
    collect = Collector(worker)
    worker.yielded.connect(collect)
    worker.pause()
    worker.step(1)
    worker.start()
    qtbot.waitUntil(lambda: collect.items == [0])
    time.sleep(0.2)
    assert pulled == [0] and worker.is_paused
    worker.step(1)
    qtbot.waitUntil(lambda: collect.items == [0, 1])
    with qtbot.waitSignal(worker.finished, timeout=2000):
        worker.stop()
    assert len(pulled) == 2


def test_stop_while_running_ends_within_a_second(qtbot):
    closed = threading.Event()

    def forever():
        try:
            while True:
                time.sleep(0.001)
                yield 1
        finally:
            closed.set()

    worker = GeneratorWorker(forever)
    worker.yielded.connect(Collector(worker))
    worker.start()
    qtbot.wait(100)
    started = time.monotonic()
    worker.stop()
    assert worker.wait(1000)
    assert time.monotonic() - started < 1.0
    assert closed.is_set(), "the generator was closed, its finally block ran"


def test_generator_error_is_reported_not_raised(qtbot):
    def broken():
        yield 1
        raise RuntimeError("layer 3 exploded")

    worker = GeneratorWorker(broken)
    worker.yielded.connect(Collector(worker))
    with qtbot.waitSignal(worker.errored, timeout=3000) as errored:
        worker.start()
    assert "layer 3 exploded" in str(errored.args[0])
    worker.wait(1000)


def test_probes_run_in_the_worker_thread(qtbot):
    threads = []
    probe = Probe("where", lambda: threads.append(threading.current_thread()) or "x", 0.0)

    def numbers():
        yield from range(5)

    worker = GeneratorWorker(numbers, probes=[probe])
    collect = Collector(worker)
    worker.yielded.connect(collect)
    with qtbot.waitSignal(worker.finished, timeout=3000):
        worker.start()
    assert threads and threads[0] is not threading.main_thread()
    assert any(p.get("where") == "x" for p in collect.probes)


def test_function_worker_reports_progress_and_cancels(qtbot):
    def slow(progress, cancel):
        for i in range(100):
            if cancel():
                raise KeyboardInterrupt("cancelled")
            progress(i / 100)
            time.sleep(0.002)
        return 42

    worker = FunctionWorker(slow)
    seen = []
    worker.progress.connect(seen.append)
    with qtbot.waitSignal(worker.returned, timeout=5000) as returned:
        worker.start()
    assert returned.args == [42]
    assert seen == sorted(set(seen)), "progress only when the percentage changes"
    worker.wait(1000)


def busy_python(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def endless_counter(pulled: list):
    def forever():
        while True:
            pulled.append(None)
            yield len(pulled)
    return forever


def test_worker_waits_while_the_gui_draws_in_its_turn(qtbot):
    pulled = []
    worker = GeneratorWorker(endless_counter(pulled))
    worker.yielded.connect(lambda bundle: worker.acknowledge())
    worker.start()
    qtbot.waitUntil(lambda: len(pulled) > 100)
    with worker.gui_turn():
        qtbot.wait(1)  # the worker may finish the item it is in
        before = len(pulled)
        busy_python(0.08)
        during = len(pulled) - before
    qtbot.waitUntil(lambda: len(pulled) > before + 100)  # and goes on afterwards
    with qtbot.waitSignal(worker.finished, timeout=2000):
        worker.stop()
    assert during <= 1



def test_worker_waits_while_the_event_loop_handles_an_event(qtbot):
    """A busy spell of the GUI thread (here handling a bundle) runs with the worker held."""
    pulled, seen = [], {}
    worker = GeneratorWorker(endless_counter(pulled), max_rate=20)

    def handle(_bundle):
        if "during" not in seen and len(pulled) > 100:
            seen["before"] = len(pulled)
            busy_python(0.03)  # well under the worker's longest wait for the GUI (0.1 s)
            seen["during"] = len(pulled) - seen["before"]
        worker.acknowledge()

    worker.yielded.connect(handle)
    worker.start()
    qtbot.waitUntil(lambda: "during" in seen, timeout=3000)
    qtbot.waitUntil(lambda: len(pulled) > seen["before"] + 100)  # and it goes on afterwards
    with qtbot.waitSignal(worker.finished, timeout=2000):
        worker.stop()
    assert seen["during"] <= 2  # the item it was in, at most one more


def test_a_long_spell_of_gui_work_slows_the_worker_but_does_not_stop_it(qtbot):
    from nnstudio.gui.workers import GUI_HOLD_LIMIT

    pulled, seen = [], {}
    worker = GeneratorWorker(endless_counter(pulled), max_rate=20)

    def handle(_bundle):
        if "during" not in seen and len(pulled) > 100:
            before = len(pulled)
            busy_python(GUI_HOLD_LIMIT * 4)
            seen["during"] = len(pulled) - before
        worker.acknowledge()

    worker.yielded.connect(handle)
    worker.start()
    qtbot.waitUntil(lambda: "during" in seen, timeout=3000)
    with qtbot.waitSignal(worker.finished, timeout=2000):
        worker.stop()
    assert seen["during"] > 2


def test_the_event_filter_is_removed_when_the_work_ends(qtbot):
    worker = GeneratorWorker(lambda: iter(range(10)))
    worker.yielded.connect(lambda bundle: worker.acknowledge())
    with qtbot.waitSignal(worker.finished, timeout=2000):
        worker.start()
    assert worker._gate._dispatcher is None and worker.control.holds == 0


def test_a_worker_started_inside_the_event_loop_can_be_waited_for_at_once(qtbot):
    """A closing window starts nothing but waits for the work it stops; superqt's own start
    waits for the event loop when called inside one, so that wait would time out."""
    from PySide6.QtCore import QTimer

    result = {}

    def start_stop_and_wait():
        worker = GeneratorWorker(endless_counter([]))
        worker.yielded.connect(lambda bundle: worker.acknowledge())
        worker.start()
        worker.stop()
        result["ended"] = worker.wait(2000)

    QTimer.singleShot(0, start_stop_and_wait)
    qtbot.waitUntil(lambda: "ended" in result, timeout=5000)
    assert result["ended"]


def test_overlapping_workers_leave_the_processs_warnings_alone(qtbot):
    import warnings

    show, filters = warnings.showwarning, list(warnings.filters)
    release_first, release_second = threading.Event(), threading.Event()
    first = FunctionWorker(lambda progress, cancel: release_first.wait(5))
    second = FunctionWorker(lambda progress, cancel: release_second.wait(5))
    first.start()
    second.start()
    qtbot.wait(50)
    release_first.set()
    assert first.wait(2000)
    release_second.set()
    assert second.wait(2000)
    assert warnings.showwarning is show and warnings.filters == filters
