"""Earthquakes turned into damage: ground motion, pipe repair rates, fragility draws.

- **Ground motion**: Boore & Atkinson (2008, *Earthquake Spectra* 24(1), 99-138; "BA08"),
  PGA (g) and PGV (cm/s) of the average horizontal component, for a point source: the
  Joyner-Boore distance is the epicentral distance. ``ln Y = F_M + F_D + F_S + tau*eta +
  sigma*eps`` with BA08's inter-event ``tau`` and intra-event ``sigma`` (Table 8).
- **Residuals**: the inter-event ``eta`` is one draw per earthquake; the intra-event ``eps``
  is a spatially correlated Gaussian field with the exponential correlation of Jayaram &
  Baker (2009, *EESD* 38(15)), ``rho(h) = exp(-3 h / range)``. The field is a sum of random
  Fourier features drawn from the scenario seed, so an asset's residual depends only on its
  position, never on which other assets exist (common random numbers across
  configurations). PGA and PGV residuals are correlated with ``RHO_PGA_PGV``.
- **Buried pipes**: ALA (2001) *Seismic Fragility Formulations for Water Systems*, wave
  propagation: ``RR = K1 * 0.00187 * PGV[in/s]`` repairs per 1000 ft, i.e.
  ``RR = K1 * 0.002416 * PGV[cm/s]`` repairs per km; repairs on a pipe are
  Poisson(RR x length), each a break with probability ``BREAK_SHARE`` (HAZUS: 20 % of
  PGV-induced repairs are breaks, 80 % leaks).
- **Other assets**: the lognormal PGA fragilities of ``twin.hazards.EARTHQUAKE_FRAGILITY``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin.config import EarthquakeHazard, Scenario
from twin.hazards import (
    EARTHQUAKE_FRAGILITY,
    Damage,
    _aligned,
    asset_class,
    damage_seed,
    hazard_id,
    register_hazard,
)
from twin.randomness import stream, uniform
from twin.region.assets import Asset

# BA08 Tables 6-7 (distance and magnitude scaling) and 8 (sigma, tau for a specified
# mechanism); Mref = 4.5, Rref = 1 km (the 2008 erratum: Rref = 1 km for pga4nl too).
BA08: dict[str, dict[str, float]] = {
    "pga": {"c1": -0.66050, "c2": 0.11970, "c3": -0.01151, "h": 1.35, "e2": -0.50350,
            "e3": -0.75472, "e4": -0.50970, "e5": 0.28805, "e6": -0.10164, "e7": 0.0,
            "mh": 6.75, "sigma": 0.502, "tau": 0.260, "blin": -0.36, "b1": -0.64, "b2": -0.14},
    "pgv": {"c1": -0.87370, "c2": 0.10060, "c3": -0.00334, "h": 2.54, "e2": 5.04727,
            "e3": 4.63188, "e4": 5.08210, "e5": 0.18322, "e6": -0.12736, "e7": 0.0,
            "mh": 8.50, "sigma": 0.500, "tau": 0.256, "blin": -0.60, "b1": -0.50, "b2": -0.06},
}
_MECHANISM_TERM = {"strike_slip": "e2", "normal": "e3", "reverse": "e4"}
_M_REF, _R_REF, _V_REF = 4.5, 1.0, 760.0
_V1, _V2, _A1, _A2, _PGA_LOW = 180.0, 300.0, 0.03, 0.09, 0.06

RHO_PGA_PGV = 0.73  # correlation of PGA and PGV residuals (Bradley 2012, Earthq. Spectra 28(1))
N_FEATURES = 400  # random Fourier features of each residual field
BREAK_SHARE = 0.2  # HAZUS-MH / ALA: PGV-induced repairs are 80 % leaks, 20 % breaks
ALA_PER_KM_PER_CMS = 0.00187 * 3.2808399 / 2.54  # 0.002416 repairs/km per cm/s (K1 = 1)

# ALA (2001) Table 4-3, K1 for wave propagation (small diameter unless named large).
PIPE_K1: dict[str, float] = {
    "cast_iron": 1.0,  # cement joints, all soils
    "cast_iron_rubber_gasket": 0.8,
    "ductile_iron": 0.5,  # rubber gasket
    "pvc": 0.5,  # rubber gasket
    "asbestos_cement": 0.5,  # rubber gasket
    "asbestos_cement_cement_joint": 1.0,
    "welded_steel_small": 0.6,  # lap arc welded, all soils
    "welded_steel_large": 0.15,  # lap arc welded, >= 16 in
    "steel_rubber_gasket": 0.7,
    "concrete_cylinder": 0.7,  # concrete with steel cylinder, welded
}


def ba08_median(imt: str, magnitude: float, rjb_km: float, vs30_m_s: float,
                mechanism: str = "strike_slip") -> float:
    """BA08 median of ``imt`` (``pga`` in g, ``pgv`` in cm/s) at Joyner-Boore distance
    ``rjb_km`` on a site with ``vs30_m_s``."""
    return math.exp(_ln_median(imt, magnitude, rjb_km, vs30_m_s, mechanism))


def _source_path(c: dict[str, float], magnitude: float, rjb_km: float, mechanism: str) -> float:
    """F_M + F_D of BA08 (eqs. 3-5), natural log."""
    dm = magnitude - c["mh"]
    f_m = c[_MECHANISM_TERM[mechanism]] + (c["e5"] * dm + c["e6"] * dm * dm if dm <= 0 else c["e7"] * dm)
    r = math.hypot(rjb_km, c["h"])
    f_d = (c["c1"] + c["c2"] * (magnitude - _M_REF)) * math.log(r / _R_REF) + c["c3"] * (r - _R_REF)
    return f_m + f_d


def _site(c: dict[str, float], vs30: float, pga4nl: float) -> float:
    """F_S = F_LIN + F_NL of BA08 (eqs. 6-13), natural log."""
    f_lin = c["blin"] * math.log(vs30 / _V_REF)
    if vs30 <= _V1:
        bnl = c["b1"]
    elif vs30 <= _V2:
        bnl = (c["b1"] - c["b2"]) * math.log(vs30 / _V2) / math.log(_V1 / _V2) + c["b2"]
    elif vs30 < _V_REF:
        bnl = c["b2"] * math.log(vs30 / _V_REF) / math.log(_V2 / _V_REF)
    else:
        bnl = 0.0
    if pga4nl <= _A1:
        f_nl = bnl * math.log(_PGA_LOW / 0.1)
    elif pga4nl <= _A2:
        dx, dy = math.log(_A2 / _A1), bnl * math.log(_A2 / _PGA_LOW)
        cc = (3.0 * dy - bnl * dx) / dx**2
        d = -(2.0 * dy - bnl * dx) / dx**3
        t = math.log(pga4nl / _A1)
        f_nl = bnl * math.log(_PGA_LOW / 0.1) + cc * t**2 + d * t**3
    else:
        f_nl = bnl * math.log(pga4nl / 0.1)
    return f_lin + f_nl


def _ln_median(imt: str, magnitude: float, rjb_km: float, vs30: float, mechanism: str) -> float:
    pga4nl = math.exp(_source_path(BA08["pga"], magnitude, rjb_km, mechanism))  # rock PGA, g
    c = BA08[imt]
    return _source_path(c, magnitude, rjb_km, mechanism) + _site(c, vs30, pga4nl)


class ResidualField:
    """A zero-mean, unit-variance Gaussian field with correlation ``exp(-3 h / range_km)``,
    as ``sqrt(2/N) sum cos(w_k . x + phi_k)``: the frequencies w_k are drawn from the
    field's spectral density (a bivariate Cauchy, scale 3 / range), the phases uniformly.
    ``range_km = 0`` gives independent draws per asset id instead."""

    def __init__(self, seed: int, purpose: str, range_km: float, n: int = N_FEATURES):
        self.seed, self.purpose, self.range_km = seed, purpose, range_km
        if range_km > 0:
            rng = stream(seed, purpose, "field")
            g = rng.normal(size=(n, 2))
            u = np.abs(rng.normal(size=(n, 1)))
            self._w = g / (u * range_km / 3.0)  # rad per km
            self._phi = rng.uniform(0.0, 2.0 * math.pi, n)
            self._amp = math.sqrt(2.0 / n)

    def at(self, asset_id: str, x_m: float, y_m: float) -> float:
        if self.range_km <= 0:
            return float(stream(self.seed, self.purpose, asset_id).normal())
        arg = self._w[:, 0] * (x_m / 1000.0) + self._w[:, 1] * (y_m / 1000.0) + self._phi
        return float(self._amp * np.cos(arg).sum())


@dataclass(frozen=True)
class GroundMotion:
    """Shaking at one asset: PGA (g) and PGV (cm/s)."""

    pga_g: float
    pgv_cms: float


def ground_motion(hz: EarthquakeHazard, index: int, seed: int, assets: list[Asset]) -> dict[str, GroundMotion]:
    """PGA and PGV at every asset, medians of BA08 plus the drawn residuals."""
    purpose = f"earthquake-{index}"
    eta = stream(seed, purpose, "inter-event").normal(size=2) if hz.residuals else np.zeros(2)
    f_pga = ResidualField(seed, f"{purpose}-pga", hz.correlation_km)
    f_pgv = ResidualField(seed, f"{purpose}-pgv", hz.correlation_km)
    rho, rho_c = RHO_PGA_PGV, math.sqrt(1.0 - RHO_PGA_PGV**2)
    eta_pga, eta_pgv = eta[0], rho * eta[0] + rho_c * eta[1]
    ex, ey = hz.epicentre_m
    out: dict[str, GroundMotion] = {}
    for a in assets:
        rjb_km = math.hypot(a["x_m"] - ex, a["y_m"] - ey) / 1000.0
        ln_pga = _ln_median("pga", hz.magnitude, rjb_km, hz.vs30_m_s, hz.mechanism)
        ln_pgv = _ln_median("pgv", hz.magnitude, rjb_km, hz.vs30_m_s, hz.mechanism)
        if hz.residuals:
            e1 = f_pga.at(a["id"], a["x_m"], a["y_m"])
            e2 = f_pgv.at(a["id"], a["x_m"], a["y_m"])
            eps_pga, eps_pgv = e1, rho * e1 + rho_c * e2
            ln_pga += BA08["pga"]["tau"] * eta_pga + BA08["pga"]["sigma"] * eps_pga
            ln_pgv += BA08["pgv"]["tau"] * eta_pgv + BA08["pgv"]["sigma"] * eps_pgv
        out[a["id"]] = GroundMotion(math.exp(ln_pga), math.exp(ln_pgv))
    return out


def ala_repair_rate_per_km(pgv_cms: float, k1: float) -> float:
    """ALA (2001) wave-propagation repair rate, repairs per km of pipe."""
    return k1 * ALA_PER_KM_PER_CMS * pgv_cms


@dataclass(frozen=True)
class PipeRepairs:
    """The drawn repairs of one pipe and what they were drawn from."""

    length_km: float
    pgv_cms: float
    rate_per_km: float
    leaks: int
    breaks: int


def pipe_repairs(hz: EarthquakeHazard, index: int, seed: int, assets: list[Asset],
                 motion: dict[str, GroundMotion] | None = None) -> dict[str, PipeRepairs]:
    """Repairs of every ``water/pipe`` (length = its ``capacity`` in m), from its own stream."""
    pipes = [a for a in assets if a["sector"] == "water" and a["type"] == "pipe"]
    motion = motion if motion is not None else ground_motion(hz, index, seed, pipes)
    k1 = PIPE_K1[hz.pipe_material]
    out: dict[str, PipeRepairs] = {}
    for a in pipes:
        if a["capacity_unit"] != "m":
            raise ValueError(f"pipe {a['id']!r}: expected its length in capacity (m), got unit {a['capacity_unit']!r}")
        length_km = a["capacity"] / 1000.0
        pgv = motion[a["id"]].pgv_cms
        rate = ala_repair_rate_per_km(pgv, k1) / hz.fragility_scale  # a stronger pipe: fewer repairs
        rng = stream(seed, f"earthquake-{index}-repairs", a["id"])
        n = int(rng.poisson(rate * length_km))
        breaks = int(rng.binomial(n, BREAK_SHARE)) if n else 0
        out[a["id"]] = PipeRepairs(length_km, pgv, rate, n - breaks, breaks)
    return out


def seismic_failure_probability(asset: Asset, pga_g: float, fragility_scale: float = 1.0) -> float:
    """P(extensive damage) of a non-pipe asset at ``pga_g``; 0 for cables and classes
    without a curve. ``fragility_scale`` multiplies the medians."""
    if asset["sector"] == "power" and asset["type"] == "line" and asset.get("underground", False):
        return 0.0
    frag = EARTHQUAKE_FRAGILITY.get(asset_class(asset))
    return 0.0 if frag is None else frag.probability(pga_g, fragility_scale)


@register_hazard("earthquake", "earthquake")
def _earthquake_damage(hz: EarthquakeHazard, i: int, scenario: Scenario, assets: list[Asset]) -> list[Damage]:
    seed, step, horizon = damage_seed(hz, scenario), scenario.run.step_s, scenario.run.horizon_s
    t0 = _aligned(hz.start_h * 3600, step, horizon)
    root = hazard_id(hz, i)
    dur = None if hz.duration_h is None else round(hz.duration_h * 3600)
    motion = ground_motion(hz, i, seed, assets)
    out = []
    for pid, r in pipe_repairs(hz, i, seed, assets, motion).items():
        if r.leaks + r.breaks:
            out.append(Damage(t0, pid, root, t0, dur, mode="break" if r.breaks else "leak"))
    for a in assets:
        if a["sector"] == "water" and a["type"] == "pipe":
            continue
        p = seismic_failure_probability(a, motion[a["id"]].pga_g, hz.fragility_scale)
        if p > 0 and uniform(seed, f"earthquake-{i}", a["id"]) < p:
            out.append(Damage(t0, a["id"], root, t0, dur))
    return out
