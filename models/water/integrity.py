"""The water sector's checks of its own solutions (docs/water.md, "Hydraulics integrity").

:class:`IntegrityWatch` looks at each step's :class:`~twin.models.water.network.Snapshot`
and emits, on asset ``water/network/epanet`` with coupling ``simulator``:

- ``hydraulics_unsolved`` (value = code) when EPANET reported warning 1 or 2 in any solve of
  the step, every such step;
- ``epanet_warning`` (value = the lowest new code) when warnings 3-6 appear;
- ``stale_solution`` when the junction pressures are bit-identical to the previous step's
  while the demand patterns moved to another period or the network changed (a watchdog
  independent of EPANET's return codes);
- ``pressure_outlier`` (on the worst junction, value = its pressure) when a junction's
  pressure is above 500 m, or below -10 m while the junction delivers water (a
  demand-driven model forcing demand at a pressure no water column can hold). A junction
  below -10 m that delivers nothing is not a solver failure: in a zone cut off from every
  source (a drained tank, stopped pumps) pressure-driven demand makes any head below the
  minimum pressure a solution, so EPANET's number there is arbitrary while the outcome, no
  water, is right; the operation reports it as ``negative_pressure``;

and, at the first step, ``option_overridden`` for every INP option the network does not use
as written (asset ``water/option/<option>``, value = the value used). The first three of
these kinds and ``pressure_outlier`` are solver failures: the run is ``degraded``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .network import UNSOLVED_WARNINGS, Snapshot, WaterNetwork

NETWORK_ASSET = "water/network/epanet"
# a junction pressure outside these bounds is not a meaningful solution (the unbalanced case
# of DESIGN.md showed -11,988 m)
PRESSURE_OUTLIER_LOW_M = -10.0
PRESSURE_OUTLIER_HIGH_M = 500.0
DELIVERING_M3S = 1e-9  # a junction delivering more than this is "delivering water"

Emit = Callable[[str, str, float, str, str], dict]


class IntegrityWatch:
    """See the module docstring; one per :class:`WaterNetwork`."""

    def __init__(self, net: WaterNetwork, node_asset: Mapping[str, str]) -> None:
        self.net = net
        self.node_asset = node_asset
        self._warn_codes: set[int] = set()
        self._prev_pressure: dict[str, float] | None = None
        self._prev_revision = -1
        self._prev_demands: tuple[float, ...] = ()
        self._overrides_reported = False

    def outliers(self, snap: Snapshot) -> dict[str, float]:
        """Junctions whose pressure is not a meaningful solution (module docstring)."""
        out = {}
        for j in self.net.junctions:
            p = snap.pressure_m[j]
            if p > PRESSURE_OUTLIER_HIGH_M or (
                    p < PRESSURE_OUTLIER_LOW_M and snap.delivered_m3s.get(j, 0.0) > DELIVERING_M3S):
                out[j] = p
        return out

    def check(self, t_s: int, snap: Snapshot, emit: Emit) -> None:
        """Emit the events of one step's solution quality."""
        if not self._overrides_reported:
            for o in self.net.overrides:
                emit(f"water/option/{o.option.lower().replace(' ', '_')}", "option_overridden",
                     o.used_value, "", "simulator")
            self._overrides_reported = True
        codes = {code for _, code in snap.warnings}
        unsolved = sorted(codes & UNSOLVED_WARNINGS)
        if unsolved:
            emit(NETWORK_ASSET, "hydraulics_unsolved", float(unsolved[0]), "", "simulator")
        physical = codes - UNSOLVED_WARNINGS
        new = sorted(physical - self._warn_codes)
        if new:
            emit(NETWORK_ASSET, "epanet_warning", float(new[0]), "", "simulator")
        self._warn_codes = physical
        pressure = {j: snap.pressure_m[j] for j in self.net.junctions}
        demands = self.net.demand_signature(t_s)
        changed = self.net.revision != self._prev_revision or demands != self._prev_demands
        if self._prev_pressure is not None and changed and pressure == self._prev_pressure:
            emit(NETWORK_ASSET, "stale_solution", 0.0, "", "simulator")
        self._prev_pressure, self._prev_revision, self._prev_demands = (
            pressure, self.net.revision, demands)
        bad = self.outliers(snap)
        if bad:
            worst = max(bad, key=lambda j: max(PRESSURE_OUTLIER_LOW_M - bad[j], bad[j] - PRESSURE_OUTLIER_HIGH_M))
            emit(self.node_asset[worst], "pressure_outlier", bad[worst], "", "simulator")
