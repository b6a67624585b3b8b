"""Stepped EPANET 2.2 hydraulics through the toolkit inside wntr, usable without mosaik.

:class:`WaterNetwork` opens an INP in a private temporary folder (its own file prefix, so
several runs in one folder or machine never clash), then advances the hydraulics one
exchange step at a time: ``step(t_s)`` solves the network at ``t_s`` with the link states
set before the call, reads a :class:`Snapshot`, and runs EPANET's own sub-steps (tank events,
controls, hydraulic steps) up to ``t_s + step_s``. A stepped run therefore equals one full
EPANET run of the same INP and hydraulic step at every exchange time.

Pumps follow their EPANET controls (the local fallback rule; for built regions a level
switch on the pump's tank) unless *forced*: a forced pump has its controls suspended
(deleted and kept) and a fixed status; :meth:`release_pump` puts its controls back.

Units: the toolkit works in the INP's units; an INP in US units is rewritten in LPS by wntr
first, so pressures and heads are metres and flows are converted to m3/s here.

Pump electrical power is computed, not taken from EPANET's energy report:
``P = rho * g * Q * H / efficiency`` with ``Q`` the pump flow (m3/s), ``H`` the head gain
across the pump (m) and one wire-to-water efficiency (default 0.75) for every pump.

Delivered demand is EPANET's pressure-driven demand (EN_DEMAND minus any emitter leak);
required demand is delivered + EN_DEMANDDEFICIT (the full pattern demand).

Integrity (docs/water.md, "Hydraulics integrity"): a snapshot is never reused. EPANET
warnings 1 (system unbalanced) and 2 (hydraulic equations unsolvable) mark the snapshot
``solved = False``. An INP with ``UNBALANCED STOP`` would make EPANET halt at the first
unbalanced step and return the same solution at every later one, so it is overridden to
``UNBALANCED CONTINUE`` with :data:`UNBALANCED_EXTRA_TRIALS` extra trials (listed in
``overrides``). Stepping past the hydraulic duration raises instead of holding the last
state. ``revision`` counts the changes made to the network (link status, pump status,
emitters), so a caller can tell whether a step's inputs changed.
"""

from __future__ import annotations

import ctypes
import logging
import math
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import toolkit as tk
from .toolkit import (  # noqa: F401 - re-exported
    CONTROL_VALVES,
    EN_PUMP,
    EN_STATUS,
    WaterNetworkError,
    _Toolkit,
)

logger = logging.getLogger(__name__)

RHO_G = 1000.0 * 9.81
DEFAULT_EFFICIENCY = 0.75
DEFAULT_DURATION_S = 169 * 3600
# Extra trials EPANET makes, with link statuses frozen, when an INP's UNBALANCED STOP is
# overridden: the value EPANET's manual uses as its example ("CONTINUE 10"; EPANET 2.2
# User Manual, [OPTIONS] UNBALANCED). Whether the step then converged is still checked.
UNBALANCED_EXTRA_TRIALS = 10
# EPANET warning codes that mean the step is not solved (EPANET 2.2 User Manual, appendix
# "Error messages": 1 system hydraulically unbalanced; 2 may be unstable, converged only with
# every link status held fixed); 3-6 are physical (disconnected nodes, pumps or valves that
# cannot deliver, negative pressures).
UNSOLVED_WARNINGS: frozenset[int] = frozenset({1, 2})


class InpOptionError(ValueError):
    """An INP option the twin cannot honour (names the file and the option)."""


class UnknownElementError(KeyError):
    """A node or link id that is not in the network."""


class StepOrderError(ValueError):
    """``step`` was asked for a time before the network's current time."""


@dataclass
class Snapshot:
    """The network's state at one exchange time (SI units: m, m3/s, MW)."""

    time_s: int
    pressure_m: dict[str, float]  # every junction and tank (a tank's pressure is its level)
    required_m3s: dict[str, float]  # junctions with demand
    delivered_m3s: dict[str, float]
    leak_m3s: dict[str, float]  # junctions with an emitter
    tank_level_m: dict[str, float]
    link_flow_m3s: dict[str, float]  # every link, only with ``read_link_flows``
    pump_on: dict[str, bool]
    pump_flow_m3s: dict[str, float]
    pump_head_m: dict[str, float]
    pump_p_mw: dict[str, float]
    # (time_s, code) of every EPANET solve from ``time_s`` up to the next exchange time
    warnings: list[tuple[int, int]] = field(default_factory=list)
    revision: int = 0  # the network's :attr:`WaterNetwork.revision` when it was solved
    watched_flow_m3s: dict[str, float] = field(default_factory=dict)  # see watch_links
    # emitters closed for the step because EPANET would have them inject water (p < 0)
    emitters_closed: list[str] = field(default_factory=list)
    # every link's flow (m3/s) in ``link_ids`` order, only with ``read_flow_vector``
    flow_vector: list[float] | None = None

    @property
    def solved(self) -> bool:
        """False if EPANET reported warning 1 or 2 in any solve of the step."""
        return not any(code in UNSOLVED_WARNINGS for _, code in self.warnings)


@dataclass(frozen=True)
class OptionOverride:
    """An option of the INP that the twin does not use as written, and why."""

    option: str  # the INP keyword, e.g. "UNBALANCED", "REQUIRED PRESSURE"
    inp_value: str  # as the INP has it
    used_value: float  # what the twin uses (UNBALANCED: the extra trials of CONTINUE)
    reason: str


class WaterNetwork:
    """One EPANET project stepped in time; see the module docstring."""

    def __init__(
        self,
        inp_path: str | Path,
        *,
        step_s: int = 300,
        duration_s: int = DEFAULT_DURATION_S,
        efficiency: float = DEFAULT_EFFICIENCY,
        work_dir: str | Path | None = None,
        minimum_pressure_m: float | None = None,
        required_pressure_m: float | None = None,
        pressure_exponent: float | None = None,
        read_link_flows: bool = False,
        split_pipes: bool = False,
    ) -> None:
        if step_s <= 0:
            raise ValueError(f"step_s must be positive, got {step_s}")
        if not 0 < efficiency <= 1:
            raise ValueError(f"efficiency must be in (0, 1], got {efficiency}")
        src = Path(inp_path)
        if not src.is_file():
            raise FileNotFoundError(f"no INP file at {src}")
        self.step_s = int(step_s)
        self.read_link_flows = bool(read_link_flows)
        self.read_flow_vector = False  # set by callers tracing causes (trace.py)
        self._emitters: dict[str, float] = {}  # node -> emitter coefficient (INP units)
        self.efficiency = float(efficiency)
        self._dir = Path(tempfile.mkdtemp(prefix="twin-water-", dir=work_dir))
        self._inp = self._dir / "net.inp"
        shutil.copyfile(src, self._inp)
        # pipe -> (its mid node, its second half): where a leak's emitter belongs
        self.split: dict[str, tuple[str, str]] = _split_pipes(self._inp) if split_pipes else {}
        self._t = 0
        self._warnings: list[tuple[int, int]] = []
        self._en = _Toolkit()
        self._open()
        if self._flow_units() not in tk._SI_FLOW:
            self._close()
            _rewrite_lps(self._inp)
            self._open()
        self._q = tk._SI_FLOW[self._flow_units()]
        self._lib = self._en.ENlib
        self._ph = self._en._project
        self._d = ctypes.c_double()
        self._i = ctypes.c_int()
        self._l = ctypes.c_long()
        self._index_elements()
        exponent = self.option(tk.EN_EMITEXPON)
        if abs(exponent - 0.5) > 1e-9:
            self._close()
            shutil.rmtree(self._dir, ignore_errors=True)
            raise InpOptionError(
                f"{src}: [OPTIONS] EMITTER EXPONENT is {exponent:g}; twin's leaks are orifices "
                "(flow = Cd A sqrt(2 g p)) and need 0.5")
        self._suppressed: set[str] = set()  # emitters closed for this step (see step)
        self.revision = 0
        self._watched: dict[str, int] = {}
        self.overrides: list[OptionOverride] = []
        self._override_unbalanced()
        hyd = self._get_time(tk.EN_HYDSTEP)
        if hyd <= 0 or self.step_s % hyd:
            new = math.gcd(max(hyd, 1), self.step_s)
            logger.info("hydraulic step %s s does not divide %s s; using %s s", hyd, self.step_s, new)
            self._set_time(tk.EN_HYDSTEP, new)
            self._set_time(tk.EN_REPORTSTEP, new)
        self.hydraulic_step_s = self._get_time(tk.EN_HYDSTEP)
        self._set_time(tk.EN_DURATION, int(duration_s))
        self.inp_demand_model = self.demand_model()
        if (minimum_pressure_m, required_pressure_m, pressure_exponent) != (None, None, None):
            self.set_demand_model(minimum_pressure_m, required_pressure_m, pressure_exponent)
            self._report_demand_overrides()
        self._suspended: dict[str, list[tuple[int, float, int, float]]] = {}
        self._forced: dict[str, bool] = {}
        self._closed_links: set[str] = set()
        self._valve_setting: dict[str, float] = {}  # control valves closed: their setting
        self._call("EN_openH", "opening hydraulics")
        self._call("EN_initH", "initialising hydraulics", 0)
        self._ended = False
        self.last: Snapshot | None = None

    # --- low-level toolkit access (no wntr logging, specific errors) -----------------------
    def _open(self) -> None:
        self._en.ENopen(str(self._inp), str(self._dir / "net.rpt"), str(self._dir / "net.bin"))

    def _close(self) -> None:
        if self._en.fileLoaded:
            self._en.ENclose()

    def _flow_units(self) -> int:
        return int(self._en.ENgetflowunits())

    def _call(self, fn: str, what: str, *args: object) -> int:
        code = int(getattr(self._en.ENlib, fn)(self._en._project, *args))
        if code >= 100:
            raise WaterNetworkError(code, what)
        if code > 0:
            self._warnings.append((self._t, code))
        return code

    def option(self, code: int) -> float:
        """An EPANET analysis option (``EN_getoption``)."""
        self._call("EN_getoption", "reading an option", code, ctypes.byref(self._d))
        return float(self._d.value)

    def _override_unbalanced(self) -> None:
        """``UNBALANCED STOP`` halts EPANET for good at the first unbalanced step (every
        later step would return the same solution): continue with a documented trial limit."""
        if self.option(tk.EN_UNBALANCED) < 0:
            self._call("EN_setoption", "overriding UNBALANCED", tk.EN_UNBALANCED,
                       ctypes.c_double(UNBALANCED_EXTRA_TRIALS))
            self.overrides.append(OptionOverride(
                "UNBALANCED", "STOP", float(UNBALANCED_EXTRA_TRIALS),
                "STOP halts the hydraulics for the rest of the run; unbalanced steps are "
                "reported as hydraulics_unsolved instead"))
            logger.warning("water: INP option UNBALANCED STOP overridden to CONTINUE %s",
                           UNBALANCED_EXTRA_TRIALS)

    def _get_time(self, param: int) -> int:
        self._call("EN_gettimeparam", "reading a time parameter", param, ctypes.byref(self._l))
        return int(self._l.value)

    def _set_time(self, param: int, value: int) -> None:
        self._call("EN_settimeparam", "setting a time parameter", param, ctypes.c_long(value))

    def _node(self, i: int, code: int) -> float:
        self._lib.EN_getnodevalue(self._ph, i, code, ctypes.byref(self._d))
        return self._d.value

    def _link(self, i: int, code: int) -> float:
        self._lib.EN_getlinkvalue(self._ph, i, code, ctypes.byref(self._d))
        return self._d.value

    def _set_link(self, i: int, code: int, value: float) -> None:
        if code != EN_STATUS or (self._link(i, EN_STATUS) > 0.5) != (value > 0.5):
            self.revision += 1
        self._call("EN_setlinkvalue", "setting a link value", i, code, ctypes.c_double(value))

    def _index_elements(self) -> None:
        buf = ctypes.create_string_buffer(64)
        n_nodes = self._en.ENgetcount(tk.EN_NODECOUNT)
        n_links = self._en.ENgetcount(tk.EN_LINKCOUNT)
        self.node_ids: list[str] = []
        self.junctions: list[str] = []
        self.tanks: list[str] = []
        self.reservoirs: list[str] = []
        self._node_index: dict[str, int] = {}
        for i in range(1, n_nodes + 1):
            self._lib.EN_getnodeid(self._ph, i, buf)
            nid = buf.value.decode("latin-1")
            self._lib.EN_getnodetype(self._ph, i, ctypes.byref(self._i))
            kind = self._i.value
            self.node_ids.append(nid)
            self._node_index[nid] = i
            {tk.EN_JUNCTION: self.junctions, tk.EN_RESERVOIR: self.reservoirs, tk.EN_TANK: self.tanks}[kind].append(nid)
        self.link_ids: list[str] = []
        self.link_type: dict[str, int] = {}
        self.pumps: list[str] = []
        self._link_index: dict[str, int] = {}
        self._link_nodes: dict[str, tuple[int, int]] = {}
        a, b = ctypes.c_int(), ctypes.c_int()
        for i in range(1, n_links + 1):
            self._lib.EN_getlinkid(self._ph, i, buf)
            lid = buf.value.decode("latin-1")
            self._lib.EN_getlinktype(self._ph, i, ctypes.byref(self._i))
            self.link_ids.append(lid)
            self.link_type[lid] = self._i.value
            self._link_index[lid] = i
            self._lib.EN_getlinknodes(self._ph, i, ctypes.byref(a), ctypes.byref(b))
            self._link_nodes[lid] = (a.value, b.value)
            if self._i.value == EN_PUMP:
                self.pumps.append(lid)
        self.elevation_m = {n: self._node(self._node_index[n], tk.EN_ELEVATION) for n in self.node_ids}
        self.base_demand_m3s = {
            j: self._base_demand(self._node_index[j]) * self._q for j in self.junctions
        }
        self.demand_junctions = [j for j in self.junctions if self.base_demand_m3s[j] > 0]
        self._demand_patterns = self._read_demand_patterns()
        self._pattern_step_s = max(self._get_time(tk.EN_PATTERNSTEP), 1)
        self._pattern_start_s = self._get_time(tk.EN_PATTERNSTART)
        for j in self.junctions:  # emitters of the INP itself
            k = self._node(self._node_index[j], tk.EN_EMITTER)
            if k > 0:
                self._emitters[j] = k

    def _read_demand_patterns(self) -> list[list[float]]:
        """The multipliers of every time pattern used by a junction's demand."""
        used: set[int] = set()
        n, idx = ctypes.c_int(), ctypes.c_int()
        for j in self.demand_junctions:
            i = self._node_index[j]
            self._lib.EN_getnumdemands(self._ph, i, ctypes.byref(n))
            for k in range(1, n.value + 1):
                self._lib.EN_getdemandpattern(self._ph, i, k, ctypes.byref(idx))
                if idx.value > 0:
                    used.add(idx.value)
        patterns = []
        for p in sorted(used):
            self._lib.EN_getpatternlen(self._ph, p, ctypes.byref(n))
            values = []
            for period in range(1, n.value + 1):
                self._lib.EN_getpatternvalue(self._ph, p, period, ctypes.byref(self._d))
                values.append(self._d.value)
            patterns.append(values)
        return patterns

    def demand_signature(self, t_s: int) -> tuple[float, ...]:
        """The multipliers of the demand patterns at ``t_s``: demands differ between two
        times exactly when their signatures do (read from the INP, not from a solution)."""
        period = (int(t_s) + self._pattern_start_s) // self._pattern_step_s
        return tuple(v[period % len(v)] for v in self._demand_patterns if v)

    def _base_demand(self, i: int) -> float:
        """Sum of a junction's positive base demands (INP units)."""
        n = ctypes.c_int()
        self._lib.EN_getnumdemands(self._ph, i, ctypes.byref(n))
        total = 0.0
        for k in range(1, n.value + 1):
            self._lib.EN_getbasedemand(self._ph, i, k, ctypes.byref(self._d))
            total += max(self._d.value, 0.0)
        return total

    def watch_links(self, link_ids: list[str]) -> None:
        """Read the flows of these links into every snapshot (``watched_flow_m3s``)."""
        self._watched = {lid: self.link_index(lid) for lid in link_ids}

    def link_diameter_m(self, link_id: str) -> float:
        """Diameter of a pipe (tk.EN_DIAMETER is in mm for SI flow units)."""
        return self._link(self.link_index(link_id), tk.EN_DIAMETER) / 1000.0

    def link_nodes(self, link_id: str) -> tuple[str, str]:
        """Start and end node ids of a link."""
        a, b = self._link_nodes[self.link_ids[self.link_index(link_id) - 1]]
        return self.node_ids[a - 1], self.node_ids[b - 1]

    def link_index(self, link_id: str) -> int:
        try:
            return self._link_index[link_id]
        except KeyError:
            raise UnknownElementError(f"no link {link_id!r} in the water network") from None

    def node_index(self, node_id: str) -> int:
        try:
            return self._node_index[node_id]
        except KeyError:
            raise UnknownElementError(f"no node {node_id!r} in the water network") from None

    def demand_model(self) -> tuple[str, float, float, float]:
        """("DDA" | "PDA", minimum pressure m, required pressure m, pressure exponent)."""
        kind = ctypes.c_int()
        pmin, preq, pexp = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        self._call("EN_getdemandmodel", "reading the demand model", ctypes.byref(kind),
                   ctypes.byref(pmin), ctypes.byref(preq), ctypes.byref(pexp))
        return ("PDA" if kind.value == 1 else "DDA", pmin.value, preq.value, pexp.value)

    def set_demand_model(self, minimum_pressure_m: float | None = None,
                         required_pressure_m: float | None = None,
                         pressure_exponent: float | None = None) -> None:
        """Switch to pressure-driven demand; unset values keep the INP's (EPANET defaults
        0 m, 0.1 m, 0.5 when the INP is demand-driven)."""
        _, pmin, preq, pexp = self.demand_model()
        pmin = pmin if minimum_pressure_m is None else float(minimum_pressure_m)
        preq = preq if required_pressure_m is None else float(required_pressure_m)
        pexp = pexp if pressure_exponent is None else float(pressure_exponent)
        if preq - pmin < 0.1:
            raise ValueError(
                f"required pressure ({preq} m) must exceed minimum pressure ({pmin} m) by 0.1 m"
            )
        self._call("EN_setdemandmodel", "setting the demand model", 1, ctypes.c_double(pmin),
                   ctypes.c_double(preq), ctypes.c_double(pexp))

    def _report_demand_overrides(self) -> None:
        """List (and log) every demand option that now differs from the INP's."""
        names = ("DEMAND MODEL", "MINIMUM PRESSURE", "REQUIRED PRESSURE", "PRESSURE EXPONENT")
        for name, old, new in zip(names, self.inp_demand_model, self.demand_model(), strict=True):
            if old == new:
                continue
            used = (1.0 if new == "PDA" else 0.0) if isinstance(new, str) else float(new)
            self.overrides.append(OptionOverride(
                name, str(old), used,
                "set by the caller (scenario [water]); pressure bounds imply PDA"))
            logger.warning("water: INP option %s %s overridden to %s", name, old, new)

    # --- controls -----------------------------------------------------------------------------
    def _suspend_controls(self, link_id: str) -> None:
        """Delete the simple controls acting on a link and keep them to restore later."""
        if link_id in self._suspended:
            return
        li = self.link_index(link_id)
        kept: list[tuple[int, float, int, float]] = []
        count = self._en.ENgetcount(tk.EN_CONTROLCOUNT)
        ctype, clink, cnode = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        setting, level = ctypes.c_double(), ctypes.c_double()
        for k in range(count, 0, -1):
            self._lib.EN_getcontrol(self._ph, k, ctypes.byref(ctype), ctypes.byref(clink),
                                    ctypes.byref(setting), ctypes.byref(cnode), ctypes.byref(level))
            if clink.value == li:
                kept.append((ctype.value, setting.value, cnode.value, level.value))
                self._call("EN_deletecontrol", f"suspending controls of {link_id}", k)
        kept.reverse()
        self._suspended[link_id] = kept

    def _restore_controls(self, link_id: str) -> None:
        li = self.link_index(link_id)
        for ctype, setting, node, level in self._suspended.pop(link_id, []):
            self._call("EN_addcontrol", f"restoring controls of {link_id}", ctype, li,
                       ctypes.c_double(setting), node, ctypes.c_double(level), ctypes.byref(self._i))

    def suspended_controls(self, link_id: str) -> list[tuple[int, float, int, float]]:
        """The controls of a link kept aside while it is forced (empty if none)."""
        return list(self._suspended.get(link_id, []))

    def pump_controls(self, pump_id: str) -> list[tuple[int, float, str, float]]:
        """The active simple controls of a link: (type, setting, node id or '', level)."""
        li = self.link_index(pump_id)
        out = []
        ctype, clink, cnode = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        setting, level = ctypes.c_double(), ctypes.c_double()
        for k in range(1, self._en.ENgetcount(tk.EN_CONTROLCOUNT) + 1):
            self._lib.EN_getcontrol(self._ph, k, ctypes.byref(ctype), ctypes.byref(clink),
                                    ctypes.byref(setting), ctypes.byref(cnode), ctypes.byref(level))
            if clink.value == li:
                node = self.node_ids[cnode.value - 1] if cnode.value > 0 else ""
                out.append((ctype.value, setting.value, node, level.value))
        return out

    # --- actions ------------------------------------------------------------------------------
    def set_pump(self, pump_id: str, on: bool) -> None:
        """Force a pump on or off; its own controls are suspended until :meth:`release_pump`."""
        if pump_id not in self.pumps:
            raise UnknownElementError(f"no pump {pump_id!r} in the water network")
        self._suspend_controls(pump_id)
        if self._forced.get(pump_id) is not on:
            self._set_link(self.link_index(pump_id), EN_STATUS, 1.0 if on else 0.0)
        self._forced[pump_id] = bool(on)

    def release_pump(self, pump_id: str, on: bool | None = None) -> None:
        """Hand a pump back to its own controls (local fallback rule), optionally setting its
        status first (e.g. ``on=True`` when power returns)."""
        if pump_id not in self.pumps:
            raise UnknownElementError(f"no pump {pump_id!r} in the water network")
        if on is not None:
            self._set_link(self.link_index(pump_id), EN_STATUS, 1.0 if on else 0.0)
        self._forced.pop(pump_id, None)
        self._restore_controls(pump_id)

    def is_forced(self, pump_id: str) -> bool:
        return pump_id in self._forced

    def close_link(self, link_id: str) -> None:
        """Close a pipe or valve (a break isolated by crews); its controls are suspended."""
        self._suspend_controls(link_id)
        i = self.link_index(link_id)
        if self.link_type[link_id] in CONTROL_VALVES and link_id not in self._closed_links:
            self._valve_setting[link_id] = self._link(i, tk.EN_SETTING)
        self._set_link(i, EN_STATUS, 0.0)
        self._closed_links.add(link_id)

    def open_link(self, link_id: str) -> None:
        """Reopen a closed pipe or valve and restore its controls. A control valve gets its
        setting back, which makes it active again (status OPEN would open it fully)."""
        i = self.link_index(link_id)
        if link_id in self._valve_setting:
            self.revision += 1
            self._call("EN_setlinkvalue", f"restoring the setting of {link_id}", i,
                       tk.EN_SETTING, ctypes.c_double(self._valve_setting.pop(link_id)))
        else:
            self._set_link(i, EN_STATUS, 1.0)
        self._closed_links.discard(link_id)
        self._restore_controls(link_id)

    def set_leak(self, node_id: str, area_m2: float, discharge_coeff: float = 0.75) -> None:
        """Put an orifice leak at a junction (EPANET emitter; ``area_m2 = 0`` removes it).

        Leak flow = Cd * A * sqrt(2 g p), so the emitter coefficient is Cd * A * sqrt(2 g)
        in the INP's flow units per m^0.5 (the INP's emitter exponent must be 0.5, EPANET's
        default).
        """
        coeff_m3s = discharge_coeff * max(area_m2, 0.0) * math.sqrt(2 * 9.81)
        if coeff_m3s / self._q != self._emitters.get(node_id, 0.0):
            self.revision += 1
        self._call("EN_setnodevalue", f"setting a leak at {node_id}", self.node_index(node_id),
                   tk.EN_EMITTER, ctypes.c_double(coeff_m3s / self._q))
        self._emitters[node_id] = coeff_m3s / self._q
        self._suppressed.discard(node_id)

    # --- stepping -----------------------------------------------------------------------------
    @property
    def time_s(self) -> int:
        """The time of the next solve."""
        return self._t

    def step(self, t_s: int) -> Snapshot:
        """Solve at ``t_s`` and advance to ``t_s + step_s``; return the state at ``t_s``."""
        t_s = int(t_s)
        if t_s < self._t and not self._ended:
            raise StepOrderError(f"asked for t={t_s} s but the network is at t={self._t} s")
        self._warnings = []
        self._restore_emitters()
        while self._t < t_s and not self._ended:
            self._advance(t_s, read=False)
        snap = self._advance(t_s + self.step_s, read=True)
        if snap is None:  # never hold the last state: it would be a stale solution
            raise WaterNetworkError(0, f"stepping to t={t_s} s past the hydraulic duration")
        snap.warnings, self._warnings = self._warnings, []
        self.last = snap
        return snap

    def _advance(self, end_s: int, read: bool) -> Snapshot | None:
        snap = None
        while self._t < end_s and not self._ended:
            self._call("EN_runH", f"solving hydraulics at t={self._t} s", ctypes.byref(self._l))
            solved = int(self._l.value)
            if read and snap is None:
                closed = self._close_injecting_emitters()
                if closed:  # re-solve the same time without them
                    self._call("EN_runH", f"re-solving hydraulics at t={self._t} s",
                               ctypes.byref(self._l))
                    solved = int(self._l.value)
                snap = self._read(solved)
                snap.emitters_closed = closed
            self._call("EN_nextH", f"advancing hydraulics from t={solved} s", ctypes.byref(self._l))
            if self._l.value == 0:
                self._ended = True
            self._t = solved + int(self._l.value)
        return snap

    def _close_injecting_emitters(self) -> list[str]:
        """EPANET 2.2 lets an emitter at negative pressure inject water into the network;
        close every such emitter for the step (restored at the next step)."""
        closed = []
        for j, k in sorted(self._emitters.items()):
            if k > 0 and j not in self._suppressed and self._node(
                    self._node_index[j], tk.EN_PRESSURE) < 0.0:
                self._call("EN_setnodevalue", f"closing the emitter at {j}",
                           self._node_index[j], tk.EN_EMITTER, ctypes.c_double(0.0))
                self._suppressed.add(j)
                closed.append(j)
        if closed:
            self.revision += 1
        return closed

    def _restore_emitters(self) -> None:
        for j in sorted(self._suppressed):
            self._call("EN_setnodevalue", f"restoring the emitter at {j}", self._node_index[j],
                       tk.EN_EMITTER, ctypes.c_double(self._emitters.get(j, 0.0)))
            self.revision += 1
        self._suppressed.clear()

    def _read(self, t_s: int) -> Snapshot:
        q = self._q
        ni = self._node_index
        get = self._lib.EN_getnodevalue
        ph, ref, d = self._ph, ctypes.byref(self._d), self._d
        pressure: dict[str, float] = {}
        for j in self.junctions:
            get(ph, ni[j], tk.EN_PRESSURE, ref)
            pressure[j] = d.value
        levels: dict[str, float] = {}
        for n in self.tanks:
            get(ph, ni[n], tk.EN_HEAD, ref)
            levels[n] = d.value - self.elevation_m[n]
        pressure.update(levels)
        required, delivered, leak = {}, {}, {}
        for j in self.demand_junctions:
            i = ni[j]
            get(ph, i, tk.EN_DEMAND, ref)
            total = d.value
            get(ph, i, tk.EN_DEMANDDEFICIT, ref)
            deficit = d.value
            k = 0.0 if j in self._suppressed else self._emitters.get(j, 0.0)
            lk = k * math.sqrt(pressure[j]) if k > 0 and pressure[j] > 0 else 0.0
            required[j] = max(0.0, (total - lk + deficit) * q)
            delivered[j] = max(0.0, (total - lk) * q)  # PDA may give -1e-9 at p < pmin
        for j, k in self._emitters.items():
            if k <= 0 or j in self._suppressed:
                continue
            if j in delivered:
                leak[j] = k * math.sqrt(max(pressure[j], 0.0)) * q
            else:
                get(ph, ni[j], tk.EN_DEMAND, ref)
                leak[j] = d.value * q
        flows = (
            {lid: self._link(i, tk.EN_FLOW) * q for lid, i in self._link_index.items()}
            if self.read_link_flows else {}
        )
        watched = {lid: self._link(i, tk.EN_FLOW) * q for lid, i in self._watched.items()}
        vector = self._flow_vector() if self.read_flow_vector else None
        pump_on, pump_flow, pump_head, pump_p = {}, {}, {}, {}
        for p in self.pumps:
            a, b = self._link_nodes[p]
            li = self._link_index[p]
            on = self._link(li, EN_STATUS) > 0.5
            flow = self._link(li, tk.EN_FLOW) * q if on else 0.0
            h = self._node(b, tk.EN_HEAD) - self._node(a, tk.EN_HEAD)
            pump_on[p] = on
            pump_flow[p] = flow
            pump_head[p] = h
            pump_p[p] = RHO_G * max(flow, 0.0) * max(h, 0.0) / self.efficiency / 1e6 if on else 0.0
        return Snapshot(
            time_s=t_s, pressure_m=pressure, required_m3s=required,
            delivered_m3s=delivered, leak_m3s=leak, tank_level_m=levels, link_flow_m3s=flows,
            pump_on=pump_on, pump_flow_m3s=pump_flow, pump_head_m=pump_head, pump_p_mw=pump_p,
            revision=self.revision, watched_flow_m3s=watched, flow_vector=vector,
        )

    def _flow_vector(self) -> list[float]:
        """Every link's flow in m3/s, in ``link_ids`` order (one toolkit call per link)."""
        get, ph, ref, d, q = self._lib.EN_getlinkvalue, self._ph, ctypes.byref(self._d), self._d, self._q
        out = [0.0] * len(self.link_ids)
        for i in range(len(out)):
            get(ph, i + 1, tk.EN_FLOW, ref)
            out[i] = d.value * q
        return out

    def link_end_indices(self) -> list[tuple[int, int]]:
        """0-based (start, end) node indices of every link, in ``link_ids`` order."""
        return [(a - 1, b - 1) for a, b in (self._link_nodes[lid] for lid in self.link_ids)]

    # --- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Free EPANET's memory and delete the private folder."""
        if getattr(self, "_en", None) is not None:
            try:
                if self._en.fileLoaded:
                    self._en.ENlib.EN_closeH(self._en._project)
                    self._close()
            finally:
                self._en = None  # type: ignore[assignment]
                shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> WaterNetwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # best effort; close() is the real API
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass


SPLIT_NODE, SPLIT_HALF = "~leak", "~b"


def _split_pipes(inp: Path) -> dict[str, tuple[str, str]]:
    """Split every pipe of an INP in half, in place (what ``wntr.morph.split_pipe`` does): pipe
    ``P`` keeps the first half, ``P~b`` is the second, ``P~leak`` the junction between them
    (zero demand, the mean elevation). Hydraulics are unchanged (head loss is linear in
    length); a leak then sits inside the damaged pipe. Written in LPS, options kept.

    wntr's ``split_pipe`` lists every node and link name on each call to check the new names
    (quadratic: 11 s of the city's 4,471 pipes); :func:`_split_pipe_in_half` does the same
    split with set lookups, and the written INP is identical (tests/water/test_water_split.py)."""
    import wntr

    wn = wntr.network.WaterNetworkModel(str(inp))
    split = {}
    nodes, links = set(wn.node_name_list), set(wn.link_name_list)
    for pipe in list(wn.pipe_name_list):
        node, half = pipe + SPLIT_NODE, pipe + SPLIT_HALF
        if node in nodes or half in links:
            raise InpOptionError(f"{inp}: cannot split pipe {pipe!r}: {node!r} or {half!r} "
                                 "already names an element")
        _split_pipe_in_half(wn, pipe, half, node)
        nodes.add(node)
        links.add(half)
        split[pipe] = (node, half)
    wntr.network.write_inpfile(wn, str(inp), units="LPS", version=2.2)
    return split


def _split_pipe_in_half(wn: Any, pipe_name: str, half: str, node: str) -> None:
    """``wntr.morph.split_pipe(wn, pipe_name, half, node, split_at_point=0.5,
    return_copy=False)`` without its name scans: the same elevation (a reservoir end takes the
    other end's), coordinates and vertices (wntr 1.x's rules), the pipe keeping the first
    half and ``half`` the second with the pipe's diameter, roughness, minor loss, status
    and check valve (both halves keep it)."""
    from wntr.network.elements import Reservoir

    pipe = wn.get_link(pipe_name)
    start, end = pipe.start_node, pipe.end_node
    if isinstance(start, Reservoir):
        elevation = end.elevation
    elif isinstance(end, Reservoir):
        elevation = start.elevation
    else:
        elevation = start.elevation + (end.elevation - start.elevation) * 0.5
    first: list = []
    last: list = []
    x0, y0 = start.coordinates
    x1, y1 = end.coordinates
    coordinates = (x0 + (x1 - x0) * 0.5, y0 + (y1 - y0) * 0.5)
    if pipe.vertices:
        points = [start.coordinates, *pipe.vertices, end.coordinates]
        segments = []  # (start, end, length, length before it)
        subtotal = 0
        for a, b in zip(points[:-1], points[1:], strict=True):
            length = sum([(u - v) ** 2 for (u, v) in zip(a, b, strict=True)]) ** 0.5
            segments.append((a, b, length, subtotal))
            subtotal += length
        split_length = (segments[-1][3] + segments[-1][2]) * 0.5
        for a, _b, _length, before in segments:
            if a == start.coordinates:
                continue
            (first if before < split_length else last).append(a)
        for a, b, length, before in segments:
            if before + length >= split_length > before:
                at = (split_length - before) / length
                coordinates = (a[0] + (b[0] - a[0]) * at, a[1] + (b[1] - a[1]) * at)
    wn.add_junction(node, base_demand=0.0, demand_pattern=None, elevation=elevation,
                    coordinates=coordinates)
    original = pipe.length
    pipe.end_node = wn.get_node(node)
    wn.add_pipe(half, node, end.name, original * (1 - 0.5), pipe.diameter, pipe.roughness,
                pipe.minor_loss, pipe.status, pipe.check_valve)
    pipe.length = original * 0.5
    pipe.vertices = first
    wn.get_link(half).vertices = last


def _rewrite_lps(inp: Path) -> None:
    """Rewrite an INP in LPS (SI) units with wntr, in place."""
    import wntr

    wn = wntr.network.WaterNetworkModel(str(inp))
    wntr.network.write_inpfile(wn, str(inp), units="LPS", version=2.2)
