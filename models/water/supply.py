"""Electrical supply of one powered water asset (pump station, well, treatment plant): the
grid, load shedding, and a backup generator whose fuel burns in proportion to its load and
which may fail to start.

Rules (docs/water.md, "Power"):

- The grid supplies the asset while its bus is not in ``dead_buses`` and its own load is not
  in power's ``unsupplied`` (shed on a live bus); a dead bus is named first.
- When the grid is lost the generator (if it has fuel) tries to start once per outage: it
  fails with probability ``start_failure`` (default :data:`GENERATOR_START_FAILURE`), drawn
  from ``twin.randomness.stream(seed, "generator-start", asset_id)``, emitting
  ``start_failed``; otherwise ``backup_started``. A failed generator is not retried until
  the grid returns.
- Fuel is kept in *full-load seconds*: ``pump_backup_h`` hours at the asset's nominal power
  ``p_mw``. Each step on the generator burns ``step_s * load / p_mw`` of it (a pump stopped
  by its level switch burns nothing; an asset without a nominal power burns by time). When
  it reaches 0 the generator stops (``fuel_exhausted``).
- Refuelling: while the grid is lost, a generator whose fuel is at or below
  ``refuel_request_frac`` of its tank (running, or run dry) asks for a crew
  (:meth:`PowerSupply.fuel_request`, cause its ``backup_started`` or ``fuel_exhausted``
  event). A crew that reached it fills the tank (:meth:`PowerSupply.refuel`, ``refuelled``);
  a generator that had run dry then starts again at the next step (a new start attempt).
- A damaged generator (its asset ``water/generator/<station>`` in ``failed``) does not start,
  and stops if running; the station's outage is then caused by the generator's failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from twin.randomness import stream

# Probability that a backup generator fails to start on demand. Issue 16's default, not a
# value fitted to a data set: Marqusee & Jenket (2020), "Reliability of emergency and standby
# diesel generators: impact on energy resiliency solutions", Applied Energy 268, 114918,
# show start and run reliability vary by more than an order of magnitude with maintenance;
# set it for the fleet being modelled (WaterOperation(generator_start_failure=...)).
GENERATOR_START_FAILURE = 0.03
# A generator asks for a refuelling crew when its tank is down to this share: half a tank,
# an operating assumption (time for a crew to drive there before it runs dry).
REFUEL_REQUEST_FRAC = 0.5

Emit = Callable[[str, str, float, str, str], dict]


class SupplyError(ValueError):
    """A bad generator parameter."""


@dataclass
class PowerSupply:
    """Grid and generator state of one asset; see the module docstring."""

    asset_id: str
    bus: str | None
    fuel_s: float  # full-load seconds of fuel left
    nominal_mw: float  # the load at which fuel burns one second per second (0: by time)
    start_failure: float = GENERATOR_START_FAILURE
    seed: int = 0
    on_generator: bool = False
    loss: str = ""  # why the grid was last lost: "bus" | "shed"
    cause: str = ""  # the power event of the current grid loss
    failed_start: str = ""  # start_failed event id during this grid loss
    exhausted: str = ""  # fuel_exhausted event id during this grid loss
    started: str = ""  # backup_started event id of the current run on the generator
    capacity_s: float = -1.0  # a full tank, full-load seconds (default: the initial fuel)
    damaged: str = ""  # the failure event of the generator asset while it is damaged
    _rng: np.random.Generator | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.start_failure <= 1.0:
            raise SupplyError(
                f"generator_start_failure must be in [0, 1], got {self.start_failure}")
        if self.fuel_s < 0:
            raise SupplyError(f"backup fuel must be >= 0, got {self.fuel_s} s")
        if self.capacity_s < 0:
            self.capacity_s = self.fuel_s

    def update(self, dead: Mapping[str, str], shed: Mapping[str, str],
               emit: Emit) -> tuple[bool, str]:
        """Is the asset powered this step? If not, the event that explains it."""
        if self.bus is not None and self.bus in dead:
            loss, cause = "bus", dead[self.bus]
        elif self.asset_id in shed:
            loss, cause = "shed", shed[self.asset_id]
        else:
            self.on_generator = False
            self.failed_start = self.exhausted = self.started = ""
            return True, ""
        self.loss, self.cause = loss, cause
        if self.damaged:  # a damaged generator does not run (or stops)
            self.on_generator = False
            return False, self.damaged
        if self.on_generator:
            if self.fuel_s > 0:
                return True, ""
            self.on_generator = False
        if self.exhausted:
            return False, self.exhausted
        if self.failed_start:
            return False, self.failed_start
        if self.fuel_s <= 0:
            return False, cause
        if self._draw() < self.start_failure:
            ev = emit(self.asset_id, "start_failed", 0.0, cause, "power->water")
            self.failed_start = ev["event_id"]
            return False, self.failed_start
        ev = emit(self.asset_id, "backup_started", self.fuel_s / 3600.0, cause, "power->water")
        self.started = ev["event_id"]
        self.on_generator = True
        return True, ""

    def burn(self, load_mw: float, step_s: int, emit: Emit) -> None:
        """Burn a step's fuel at ``load_mw`` while on the generator."""
        if not self.on_generator:
            return
        rate = max(load_mw, 0.0) / self.nominal_mw if self.nominal_mw > 0 else 1.0
        self.fuel_s = max(0.0, self.fuel_s - step_s * rate)
        if self.fuel_s <= 1e-9:
            self.fuel_s = 0.0
            ev = emit(self.asset_id, "fuel_exhausted", 0.0, self.cause, "power->water")
            self.exhausted = ev["event_id"]

    def fuel_request(self, request_frac: float) -> str:
        """The event a refuelling crew is sent for ('' when none is needed): the generator
        runs (or ran dry) during a grid loss with fuel at or below ``request_frac`` of a
        full tank."""
        if self.capacity_s <= 0 or not (self.on_generator or self.exhausted):
            return ""
        if self.fuel_s > request_frac * self.capacity_s:
            return ""
        return self.exhausted or self.started

    def refuel(self, cause: str, emit: Emit) -> None:
        """A crew filled the tank: fuel back to :attr:`capacity_s` (``refuelled``, value =
        hours at full load); a generator that ran dry starts again at the next update."""
        if self.capacity_s <= 0:
            return
        self.fuel_s = self.capacity_s
        self.exhausted = ""
        emit(self.asset_id, "refuelled", self.fuel_s / 3600.0, cause, "repair")

    def _draw(self) -> float:
        if self._rng is None:
            self._rng = stream(self.seed, "generator-start", self.asset_id)
        return float(self._rng.random())
