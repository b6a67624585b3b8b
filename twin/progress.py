"""Labelled progress bars (tqdm) on a terminal; silent in logs, pipes and CI.

One place decides whether a bar is shown: ``enabled=None`` means "only when the stream is
a terminal", so a run under a scheduler or with its output redirected writes no control
characters into the log. ``twin run`` shows one bar per configuration whose label names
the phase (region, baseline, run) and whose count is simulated hours; sweeps and reports
show one bar over their runs or figures.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")

# (configuration, phase, simulated hours done in that phase or None when it starts)
PhaseReporter = Callable[[str, str, "float | None"], None]

PHASES = ("region", "baseline", "run")  # the phases of one configuration in `twin run`


def shown(stream: IO[str] | None = None, enabled: bool | None = None) -> bool:
    """Whether a bar is drawn: ``enabled`` when given, else whether ``stream`` is a terminal."""
    stream = stream if stream is not None else sys.stderr
    if enabled is not None:
        return enabled
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream
        return False


def bar(total: float, label: str = "", stream: IO[str] | None = None, enabled: bool | None = None,
        unit: str = "it", position: int | None = None, bar_format: str | None = None) -> tqdm:
    """A tqdm bar on ``stream`` (stderr), disabled unless :func:`shown`."""
    stream = stream if stream is not None else sys.stderr
    return tqdm(total=total, desc=label, file=stream, disable=not shown(stream, enabled), unit=unit,
                position=position, leave=True, dynamic_ncols=True, mininterval=0.2, bar_format=bar_format)


# simulated hours as whole numbers, elapsed and remaining wall time (no rate: h/s means little)
HOURS_FORMAT = "{desc} {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} h [{elapsed}<{remaining}]"


def iterate(items: Iterable[T], total: int, label: str = "", stream: IO[str] | None = None,
            enabled: bool | None = None) -> Iterator[T]:
    """Iterate ``items`` while showing a labelled bar."""
    with bar(total, label, stream, enabled) as b:
        for item in items:
            yield item
            b.update(1)


class RunProgress:
    """One bar per configuration of ``twin run``: ``centralised: baseline  12/24 h``.

    :meth:`report` is the :data:`PhaseReporter` the runner calls (in this process, or
    relayed from worker processes by :meth:`relay`); the bar counts simulated hours of the
    baseline and the run (``hours`` each), which worker processes may run side by side
    (``centralised: baseline + run``); the runner reports a baseline it reused as all done.
    """

    def __init__(self, configurations: list[str], hours: float, baseline: bool,
                 stream: IO[str] | None = None, enabled: bool | None = None) -> None:
        self.hours = float(hours)
        self.total = self.hours * (2 if baseline else 1)
        self.enabled = shown(stream, enabled)
        self._bars = {c: bar(self.total, f"{c}: waiting", stream, self.enabled, unit="h", position=i,
                             bar_format=HOURS_FORMAT) for i, c in enumerate(configurations)}
        self._done: dict[str, dict[str, float]] = {c: {} for c in configurations}  # hours per phase
        self._lock = threading.Lock()

    def report(self, configuration: str, phase: str, hours_done: float | None) -> None:
        """``configuration`` is in ``phase`` (region, baseline, run, done, failed) and has
        simulated ``hours_done`` of it (``None`` when the phase starts)."""
        b = self._bars.get(configuration)
        if b is None:
            return
        with self._lock:
            done = self._done[configuration]
            if phase in ("baseline", "run"):
                done[phase] = min(self.hours, max(done.get(phase, 0.0), hours_done or 0.0))
            running = [p for p in ("baseline", "run") if p in done and done[p] < self.hours]
            label = " + ".join(running) if phase in ("baseline", "run") and running else phase
            n = self.total if phase == "done" else sum(done.values())
            b.set_description_str(f"{configuration}: {label}", refresh=False)
            b.update(min(self.total, n) - b.n)

    def relay(self, queue: Any) -> threading.Thread:
        """Read ``(configuration, phase, hours)`` tuples from ``queue`` until ``None``."""

        def pump() -> None:
            while (item := queue.get()) is not None:
                self.report(*item)

        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        for b in self._bars.values():
            b.close()


class QueueReporter:
    """A picklable :data:`PhaseReporter` for worker processes: puts reports on a queue."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def __call__(self, configuration: str, phase: str, hours_done: float | None) -> None:
        self.queue.put((configuration, phase, hours_done))


# The reporter of each recording in this process, by results path: the recorder simulator
# (which mosaik creates, so it cannot be handed a callable) calls it after every step.
STEP_REPORTERS: dict[str, Callable[[float], None]] = {}
