"""Power grids: pandapower JSON, MATPOWER or ``pandapower:<network>``, placed in the common
frame, every element named by its asset id (``power/<type>/<name>``)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twin.config import SHIPPED_POWER_PREFIX
from twin.region.assets import SECTOR_FILES, Asset, Dependency, make_asset
from twin.region.importers.common import RegionImportError, Transform, layout_positions

LOAD_BUS_MAX_KV = 35.0  # buses at or below this voltage accept coupled loads
HOUSEHOLD_MEAN_KW = 1.2  # as in the generated grid: households behind an imported load


@dataclass
class _PowerImport:
    net: Any
    bus_xy: dict[int, tuple[float, float]]
    ids: dict[tuple[str, int], str] = field(default_factory=dict)  # (table, index) -> asset id


_POWER_TYPES: dict[str, str] = {
    "bus": "bus", "line": "line", "trafo": "trafo", "switch": "switch", "load": "load",
    "sgen": "sgen", "gen": "plant", "ext_grid": "ext_grid", "storage": "battery",
    "motor": "motor", "asymmetric_load": "asymmetric_load", "ward": "ward",
}
# Static generators by their pandapower ``type``: the asset type (first prefix that matches).
SGEN_SUBTYPES: tuple[tuple[str, str], ...] = (("PV", "pv"), ("WP", "wind"), ("WIND", "wind"), ("CHP", "chp"))


def sgen_type(kind: object) -> str:
    """Asset type of a static generator: ``pv``, ``wind``, ``chp`` or ``sgen``."""
    text = str(kind or "").upper()
    return next((t for prefix, t in SGEN_SUBTYPES if text.startswith(prefix)), "sgen")


def motor_p_mw(net: Any, i: int) -> float:
    """Electrical power a pandapower motor draws (MW), as pandapower computes it:
    ``pn_mech_mw / efficiency * loading * scaling``."""
    m = net.motor
    eff = float(m.at[i, "efficiency_percent"]) / 100.0
    return float(m.at[i, "pn_mech_mw"]) / eff * float(m.at[i, "loading_percent"]) / 100.0 * float(
        m.at[i, "scaling"])


def clean_name(name: object) -> str:
    """An element name as it appears in asset ids: spaces and ``/`` to ``_``."""
    text = "" if name is None or (isinstance(name, float) and math.isnan(name)) else str(name)
    return re.sub(r"[\s/]+", "_", text.strip())


def read_power(spec: str) -> Any:
    """A pandapower net from a JSON file, a MATPOWER case or ``pandapower:<network>``."""
    import pandapower as pp

    if spec.startswith(SHIPPED_POWER_PREFIX):
        import pandapower.networks as pn

        name = spec[len(SHIPPED_POWER_PREFIX):]
        factory = getattr(pn, name, None)
        if not callable(factory):
            raise RegionImportError("power", spec, f"pandapower.networks has no network {name!r}")
        return factory()
    path = Path(spec)
    if not path.is_file():
        raise RegionImportError("power", spec, "no such file")
    try:
        if path.suffix.lower() == ".m":
            problem = matpower_problem(path)
            if problem:
                raise RegionImportError("power", spec, problem)
            from pandapower.converter.matpower.from_mpc import from_mpc

            return from_mpc(str(path))
        return pp.from_json(str(path))
    except RegionImportError:
        raise
    except ImportError as err:
        raise RegionImportError("power", spec, f"MATPOWER needs the optional 'matpowercaseframes' package ({err})") from err
    except AttributeError as err:  # JSON, but not what pandapower.to_json writes
        raise RegionImportError("power", spec, "JSON that is not a pandapower network (write it with "
                                f"pandapower.to_json): {err}") from err
    except Exception as err:  # pandapower raises many types for a bad file
        raise RegionImportError("power", spec, f"not a readable power network: {err}") from err


MATPOWER_SECTIONS = ("baseMVA", "bus", "gen", "branch")  # what a case needs


def matpower_problem(path: Path) -> str | None:
    """The first problem of a MATPOWER case that pandapower reports without naming it: a
    missing section, a matrix entry that is not a number (``mpc.bus row 2: ...``)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        return f"not UTF-8 text (byte {err.start}); save it as UTF-8"
    text = re.sub(r"%[^\n]*", "", text)  # comments
    for section in MATPOWER_SECTIONS:
        if not re.search(rf"mpc\.{section}\s*=", text):
            return f"no mpc.{section} (a MATPOWER case needs {', '.join('mpc.' + s for s in MATPOWER_SECTIONS)})"
    for section in MATPOWER_SECTIONS[1:]:
        m = re.search(rf"mpc\.{section}\s*=\s*\[(.*?)\]", text, re.S)
        if m is None:
            return f"mpc.{section} is not a matrix '[ ... ];'"
        rows = [r.split() for r in re.split(r"[;\n]", m.group(1)) if r.strip()]
        if not rows:
            return f"mpc.{section} is empty"
        for k, row in enumerate(rows, start=1):
            for j, tok in enumerate(row, start=1):
                try:
                    float(tok)
                except ValueError:
                    return f"mpc.{section} row {k} column {j}: {tok!r} is not a number"
    return None


def _bus_geo(net: Any) -> dict[int, tuple[float, float]]:
    out: dict[int, tuple[float, float]] = {}
    if "geo" not in net.bus:
        return out
    for b, geo in net.bus["geo"].items():
        if isinstance(geo, str) and geo:
            try:
                x, y = json.loads(geo)["coordinates"][:2]
                out[int(b)] = (float(x), float(y))
            except (ValueError, KeyError, TypeError):
                continue
    return out


def _power_positions(net: Any, transform: Transform, spec: str) -> dict[int, tuple[float, float]]:
    known = {str(b): transform(*xy) for b, xy in _bus_geo(net).items()}
    edges = [(str(a), str(b)) for a, b in zip(net.line.from_bus, net.line.to_bus, strict=True)]
    edges += [(str(a), str(b)) for a, b in zip(net.trafo.hv_bus, net.trafo.lv_bus, strict=True)]
    bb = net.switch[net.switch.et == "b"]
    edges += [(str(a), str(b)) for a, b in zip(bb.bus, bb.element, strict=True)]
    pos = layout_positions([str(b) for b in net.bus.index], edges, known, f"power ({spec})",
                           (transform.ox, transform.oy))
    return {int(b): xy for b, xy in pos.items()}


def _name_elements(net: Any) -> dict[tuple[str, int], str]:
    """Asset id of every element: ``power/<type>/<name>`` (the index when names clash)."""
    ids: dict[tuple[str, int], str] = {}
    for table, typ in _POWER_TYPES.items():
        df = net[table]
        if not len(df):
            continue
        names = [clean_name(n) for n in df["name"]] if "name" in df else [""] * len(df)
        unique = all(names) and len(set(names)) == len(names)
        for (i, n) in zip(df.index, names, strict=True):
            t = sgen_type(df.at[i, "type"] if "type" in df else "") if table == "sgen" else typ
            ids[(table, int(i))] = f"power/{t}/{n if unique else f'{table}{int(i)}'}"
    return ids


# The bus columns of each element table, and the columns that must hold finite numbers.
BUS_COLUMNS: dict[str, tuple[str, ...]] = {
    "line": ("from_bus", "to_bus"), "trafo": ("hv_bus", "lv_bus"), "switch": ("bus",),
    "load": ("bus",), "sgen": ("bus",), "gen": ("bus",), "ext_grid": ("bus",), "storage": ("bus",),
    "motor": ("bus",), "asymmetric_load": ("bus",), "ward": ("bus",),
}
NUMBER_COLUMNS: dict[str, tuple[str, ...]] = {
    "bus": ("vn_kv",), "line": ("length_km",), "load": ("p_mw", "q_mvar"), "sgen": ("p_mw",),
    "gen": ("p_mw",), "storage": ("p_mw", "max_e_mwh"),
}


def table_problem(net: Any) -> str | None:
    """The first element of ``net`` that names a bus the network lacks, or holds a value
    that is not a finite number where one is needed: ``table[row] 'name': column ...``."""
    buses = set(int(b) for b in net.bus.index)
    for table in sorted(set(BUS_COLUMNS) | set(NUMBER_COLUMNS)):
        df = net[table] if table in net else None
        if df is None or not len(df):
            continue
        for col in BUS_COLUMNS.get(table, ()):
            if col not in df:
                return f"table {table!r} has no column {col!r}"
            rows = df if table != "switch" else df[df["et"] == "b"] if "et" in df else df
            cols = [col] + (["element"] if table == "switch" and "et" in df else [])
            for c in cols:
                for i, b in rows[c].items():
                    if _as_int(b) not in buses:
                        return f"{table}[{i}] {str(df.at[i, 'name']) if 'name' in df else ''!r}: {c} {b!r} is no bus of the network"
        for col in NUMBER_COLUMNS.get(table, ()):
            if col not in df:
                return f"table {table!r} has no column {col!r}"
            for i, v in df[col].items():
                try:
                    ok = math.isfinite(float(v))
                except (TypeError, ValueError):
                    ok = False
                if not ok:
                    name = str(df.at[i, "name"]) if "name" in df else ""
                    return f"{table}[{i}] {name!r}: {col} {v!r} is not a finite number"
    return None


def _as_int(value: Any) -> int | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return int(f) if math.isfinite(f) and f == int(f) else None


def import_power(spec: str, transform: Transform) -> _PowerImport:
    """Read the grid, place its buses in the common frame and name every element by asset id."""
    net = read_power(spec)
    if not len(net.bus):
        raise RegionImportError("power", spec, "the network has no buses (table 'bus' is empty)")
    if not len(net.ext_grid) and not len(net.gen):
        raise RegionImportError("power", spec, "the network has no external grid or generator "
                                "(tables 'ext_grid' and 'gen' are empty: no slack)")
    problem = table_problem(net)
    if problem:
        raise RegionImportError("power", spec, problem)
    imp = _PowerImport(net=net, bus_xy=_power_positions(net, transform, spec))
    imp.ids = _name_elements(net)
    for (table, i), aid in imp.ids.items():
        net[table].at[i, "name"] = aid
    for b, (x, y) in imp.bus_xy.items():
        net.bus.at[b, "geo"] = json.dumps({"type": "Point", "coordinates": [round(x, 1), round(y, 1)]})
    return imp


def power_assets(imp: _PowerImport, district_of: Callable[[float, float], str]) -> list[Asset]:
    """Asset records of the grid; sets the district/customers/category columns the simulator reads."""
    net, xy, ids = imp.net, imp.bus_xy, imp.ids
    assets: list[Asset] = []
    load_kv = [b for b in net.bus.index if float(net.bus.at[b, "vn_kv"]) <= LOAD_BUS_MAX_KV
               and bool(net.bus.at[b, "in_service"])]
    load_buses = set(load_kv or [b for b in net.bus.index if bool(net.bus.at[b, "in_service"])])
    for b in net.bus.index:
        x, y = xy[int(b)]
        assets.append(make_asset(ids[("bus", int(b))], "power", "bus", x, y, district_of(x, y),
                                 capacity=float(net.bus.at[b, "vn_kv"]),
                                 capacity_unit="load_bus" if b in load_buses else "busbar"))
    for table, fb, tb in (("line", "from_bus", "to_bus"), ("trafo", "hv_bus", "lv_bus")):
        for i in net[table].index:
            (xa, ya), (xb, yb) = xy[int(net[table].at[i, fb])], xy[int(net[table].at[i, tb])]
            x, y = (xa + xb) / 2, (ya + yb) / 2
            cap = (float(net.line.at[i, "length_km"]), "km") if table == "line" else (
                float(net.trafo.at[i, "sn_mva"]), "MVA")
            cable = table == "line" and "type" in net.line and net.line.at[i, "type"] == "cs"
            assets.append(make_asset(ids[(table, int(i))], "power", table, x, y, district_of(x, y),
                                     capacity=cap[0], capacity_unit=cap[1], critical=table == "trafo",
                                     underground=bool(cable)))
    for i in net.switch.index:
        x, y = xy[int(net.switch.at[i, "bus"])]
        assets.append(make_asset(ids[("switch", int(i))], "power", "switch", x, y, district_of(x, y),
                                 capacity=1.0 if bool(net.switch.at[i, "closed"]) else 0.0,
                                 capacity_unit="closed", needs_ict=True))
    counts = {int(i): load_households(net, int(i)) for i in net.load.index}
    for col, default in (("district", ""), ("customers", 0), ("critical", False), ("category", "household")):
        if col not in net.load:
            net.load[col] = default
    for i in net.load.index:
        x, y = xy[int(net.load.at[i, "bus"])]
        d = district_of(x, y)
        households = counts[int(i)]
        net.load.at[i, "district"] = d
        net.load.at[i, "customers"] = int(households)
        net.load.at[i, "category"] = "household"
        net.load.at[i, "critical"] = False
        assets.append(make_asset(ids[("load", int(i))], "power", "load", x, y, d, customers=households,
                                 capacity=round(float(net.load.at[i, "p_mw"]), 6), capacity_unit="MW"))
    for table in ("sgen", "storage", "gen", "ext_grid", "motor", "asymmetric_load", "ward"):
        df = net[table]
        if not len(df):
            continue
        if table in ("sgen", "storage", "gen") and "district" not in df:
            df["district"] = ""
        for i in df.index:
            x, y = xy[int(df.at[i, "bus"])]
            d = district_of(x, y)
            if "district" in df:
                df.at[i, "district"] = d
            aid = ids[(table, int(i))]
            if table == "storage":
                cap, unit = float(df.at[i, "max_e_mwh"]), "MWh"
            elif table == "ext_grid":
                cap, unit = 0.0, "MVA"
            elif table == "motor":
                cap, unit = motor_p_mw(net, int(i)), "MW"
            elif table == "asymmetric_load":
                cap, unit = sum(float(df.at[i, f"p_{ph}_mw"]) for ph in "abc"), "MW"
            elif table == "ward":
                cap, unit = float(df.at[i, "ps_mw"]) + float(df.at[i, "pz_mw"]), "MW"
            else:
                cap, unit = float(df.at[i, "p_mw"]), "MW"
            assets.append(make_asset(aid, "power", aid.split("/")[1], x, y, d, capacity=cap,
                                     capacity_unit=unit, critical=table in ("ext_grid", "gen"),
                                     needs_ict=table in ("storage", "gen")))
    return assets


def bus_districts(out_dir: Path, assets: list[Asset]) -> None:
    """Coupled loads added by ``add_coupled_loads`` get the district of their bus asset."""
    import pandapower as pp

    path = out_dir / SECTOR_FILES["power"]
    net = pp.from_json(str(path))
    district = {a["id"]: a["district"] for a in assets if a["id"].startswith("power/bus/")}
    by_bus = {int(i): district.get(str(n), "") for i, n in net.bus["name"].items()}
    for i in net.load.index:
        if str(net.load.at[i, "category"]) != "household":
            net.load.at[i, "district"] = by_bus.get(int(net.load.at[i, "bus"]), "")
    pp.to_json(net, str(path))


def load_households(net: Any, i: int) -> int:
    """Households behind load ``i``: the file's ``customers`` column where it is positive, else
    ``p_mw × scaling / HOUSEHOLD_MEAN_KW`` (an MV load stands for an MV/LV substation)."""
    if "customers" in net.load:
        given = net.load.at[i, "customers"]
        if given is not None and not (isinstance(given, float) and math.isnan(given)) and float(given) > 0:
            return int(given)
    scaling = float(net.load.at[i, "scaling"]) if "scaling" in net.load else 1.0
    scaling = 1.0 if math.isnan(scaling) else scaling
    return max(0, round(float(net.load.at[i, "p_mw"]) * scaling * 1000.0 / HOUSEHOLD_MEAN_KW))


def drive_motors(net: Any, assets: list[Asset], deps: list[Dependency]) -> tuple[list[Dependency], dict[str, str]]:
    """A consumer whose power supplier is a motor (``power/motor/*``, a pump's motor in the
    dependency CSV) is driven by it: the consumer couples to the motor's bus, and the motor
    leaves the grid because the consumer's coupled load on that bus *is* the motor, set each
    step by the consumer's simulator (a pump: its hydraulic power rho g Q H / eta, 0 when it
    stops). Returns the dependencies with motors replaced by their buses and
    ``{motor asset id: consumer id}``; a motor that two consumers name is an error."""
    by_name = {str(n): int(i) for i, n in net.motor["name"].items()} if len(net.motor) else {}
    bus_id = {int(b): str(n) for b, n in net.bus["name"].items()}
    drives: dict[str, str] = {}
    out: list[Dependency] = []
    for d in deps:
        if d["coupling"].startswith("power->") and d["supplier"] in by_name:
            motor = d["supplier"]
            if motor in drives:
                raise ValueError(f"motor {motor!r} drives both {drives[motor]!r} and {d['consumer']!r}")
            drives[motor] = d["consumer"]
            d = Dependency(consumer=d["consumer"], coupling=d["coupling"],
                           supplier=bus_id[int(net.motor.at[by_name[motor], "bus"])])
        out.append(d)
    if drives:
        net.motor.drop(index=[by_name[m] for m in drives], inplace=True)
        rated = {a["id"]: a["capacity"] for a in assets if a["id"] in drives}
        for a in assets:  # the consumer's nominal draw is its motor's rating
            for m, c in drives.items():
                if a["id"] == c and a["p_mw"] <= 0:
                    a["p_mw"] = rated[m]
    return out, drives
