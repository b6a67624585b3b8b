"""Labelled progress (twin.progress): shown on a terminal only, labels name configuration
and phase, the count is simulated hours."""

from __future__ import annotations

import io
import queue

from twin import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_unless_a_terminal() -> None:
    log = io.StringIO()
    assert list(progress.iterate(range(3), 3, "runs", stream=log)) == [0, 1, 2]
    assert log.getvalue() == ""
    term = Terminal()
    assert list(progress.iterate(range(2), 2, "drawing figures", stream=term)) == [0, 1]
    assert "drawing figures" in term.getvalue() and "2/2" in term.getvalue()


def test_run_bars_name_configuration_and_phase() -> None:
    term = Terminal()
    bars = progress.RunProgress(["centralised", "decentralised"], hours=24, baseline=True, stream=term)
    bars.report("centralised", "region", None)
    bars.report("centralised", "baseline", 12.0)
    assert bars._bars["centralised"].n == 12.0 and bars._bars["centralised"].total == 48.0
    bars.report("centralised", "baseline", 24.0)  # the baseline done (or reused)
    bars.report("centralised", "run", 6.0)  # the run's hours count on top
    assert bars._bars["centralised"].n == 30.0
    bars.report("decentralised", "done", None)  # reused: full at once
    assert bars._bars["decentralised"].n == 48.0
    bars.report("elsewhere", "run", 1.0)  # not ours: ignored
    bars.close()
    text = term.getvalue()
    assert "centralised: run" in text and "decentralised: done" in text and "30/48" in text
    quiet = progress.RunProgress(["c"], hours=24, baseline=False, stream=io.StringIO())
    assert not quiet.enabled


def test_a_baseline_beside_its_run_adds_up_on_one_bar() -> None:
    term = Terminal()
    bars = progress.RunProgress(["c"], hours=24, baseline=True, stream=term)
    bars.report("c", "run", None)
    bars.report("c", "baseline", None)
    bars.report("c", "run", 10.0)
    bars.report("c", "baseline", 4.0)
    assert bars._bars["c"].n == 14.0 and bars._bars["c"].desc == "c: baseline + run"
    bars.report("c", "baseline", None)  # the run fetching the finished baseline: no step back
    bars.report("c", "baseline", 24.0)
    assert bars._bars["c"].n == 34.0 and bars._bars["c"].desc == "c: run"
    bars.report("c", "run", 24.0)
    bars.report("c", "done", None)
    assert bars._bars["c"].n == 48.0 and bars._bars["c"].desc == "c: done"
    bars.close()


def test_reports_from_worker_processes_arrive_through_the_queue() -> None:
    term = Terminal()
    bars = progress.RunProgress(["c"], hours=2, baseline=False, stream=term)
    q: queue.Queue = queue.Queue()
    thread = bars.relay(q)
    reporter = progress.QueueReporter(q)
    reporter("c", "run", None)
    reporter("c", "run", 1.5)
    q.put(None)
    thread.join(timeout=5)
    assert not thread.is_alive() and bars._bars["c"].n == 1.5
    bars.close()
