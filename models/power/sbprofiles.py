"""SimBench's load and PV profiles as the power model's time series (``power.profiles =
"simbench"``, the default; docs/power.md, "Time series").

SimBench (Meinecke et al., *Energies* 13(12) 3290, 2020) ships a year (2016, 366 days) of
15-min profiles with the ``simbench`` package (scenario 0, the data set of the ``--0-sw``
grids): load profiles per unit of a load's rating (``<name>_pload``) and generation profiles
per unit of rated power (``RESProfile``). Nothing is downloaded.

- **Loads.** Each load with a profile name (``load.profile`` in ``power.json``) draws
  ``p_mw x profile(t) / mean(profile over the year)``: the shape is SimBench's, the annual
  mean is the load's nominal ``p_mw`` (a household stays at
  :data:`~twin.models.power.build.HOUSEHOLD_MEAN_KW`). Loads without one (pumps, ICT
  sites, signals: their demand comes from the coupling) are not touched.
- **PV.** ``PV_PROFILE`` per unit of rated power; under a storm's wind field capped at
  ``STORM_CLOUD_FACTOR`` times the clear-sky envelope (the highest value of the same
  15-min slot within +-7 days).
- **The day.** ``run.season`` picks a window of the year (:data:`SEASON_DAYS`); the run
  starts at 00:00 of a day drawn uniformly from it with ``stream(seed, "power-profile-day",
  season)`` and runs on through the following days (wrapping from 31 Dec to 1 Jan).
- **Steps.** A step's factor is the mean of the profile over ``[t, t + step_s)`` (15-min
  values held within their slot), so energy over a step is SimBench's for any step length.

Reading the CSVs costs ~2 s, so the profiles are kept as one uncompressed ``.npz`` beside
the extracted grids (:func:`~twin.models.power.simbench.cache_dir`); a process reads only
the columns it uses (~1 ms each) and keeps them.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from twin.randomness import stream

log = logging.getLogger(__name__)

PROFILE_SOURCES: tuple[str, ...] = ("simbench", "synthetic")
DEFAULT_PROFILES = "simbench"
SLOT_S = 900  # SimBench's resolution
SLOTS_PER_DAY = 96
YEAR_DAYS = 366  # 2016
SCENARIO = 0  # the data set of the --0-sw grids the regions use

# Synthetic grid: a household load stands for the hundreds of households behind the MV/LV
# substations of its bus, which SimBench's own MV grids model with the aggregate profiles
# of its LV grids (lv_urban6 is the sum of 1-LV-urban6's 111 loads, correlation 0.99999);
# per settlement kind the most residential of them (H0 share of energy: lv_urban6 51 %,
# lv_semiurb5 54 %, lv_rural3 71 %). A single-household profile (H0-A..H0-L) on hundreds
# of households would remove their diversity: H0-A's 99th percentile is 4.4 x its mean,
# lv_urban6's 2.3 x.
HOUSEHOLD_PROFILES: dict[str, str] = {"city": "lv_urban6", "town": "lv_semiurb5", "village": "lv_rural3"}
# Critical facilities: BDEW class G3 (continuous operation). G3-A (day-time rise on
# working days, as a hospital's surgery and outpatient hours) for the hospital, G3-H (the
# flattest: peak 1.36 x mean, working days and weekends alike) for the 24/7 control centre
# and the water plant.
FACILITY_PROFILES: dict[str, str] = {"hospital": "G3-A", "control_centre": "G3-H", "water_plant": "G3-H"}
# PV: of SimBench's eight PV profiles, the two without a whole day at zero in the equinox and
# summer windows (PV1, PV4; the others have such days, e.g. PV5 on 7 and 24 Sep: data gaps)
# the one closer to the other seven (mean correlation 0.87 against 0.83); 697 kWh/kWp in
# 2016 (the others 575-681). Its winter window has 14 days at zero (snow or gaps, the data
# do not say), kept.
PV_PROFILE = "PV4"
# A household load's design peak over its nominal mean p_mw (HOUSEHOLD_MEAN_KW): what the grid
# is sized and planned N-1 for (models/power/build.py, simbench.py). With SimBench profiles a
# household load's year peaks at exactly this (SimBench's own convention: a load's rating is
# its peak, its profile per unit of it), so its energy follows the profile's load factor.
PEAK_FACTOR = 1.6
CLEAR_SKY_DAYS = 7  # clear-sky envelope: max of the same slot within +- this many days


def _window(*ranges: tuple[int, int]) -> tuple[int, ...]:
    return tuple(d for a, b in ranges for d in range(a, b + 1))


# Day-of-year indices (0 = 1 Jan 2016) each season draws from: meteorological winter
# (Dec-Feb) and summer (Jun-Aug); equinox: +- 14 days around 20 Mar and 22 Sep (day length
# within about 1 h of 12 h at 51 deg N).
SEASON_DAYS: dict[str, tuple[int, ...]] = {
    "winter": _window((0, 59), (335, 365)),
    "summer": _window((152, 243)),
    "equinox": _window((65, 93), (251, 279)),
}


class ProfileError(RuntimeError):
    """SimBench's profiles could not be read or do not have a requested name."""


def _cache_path() -> Path:
    """Where the profiles are kept (the version from the package metadata: importing
    simbench costs more than reading the cache)."""
    from importlib.metadata import PackageNotFoundError, version

    from twin.models.power.simbench import cache_dir

    try:
        v = version("simbench")
    except PackageNotFoundError as exc:  # a declared dependency: a broken install
        raise ProfileError("power.profiles = 'simbench' needs the simbench package") from exc
    return cache_dir() / f"simbench-{v}" / f"profiles-{SCENARIO}.npz"


def _read_csv() -> dict[str, np.ndarray]:
    """Every load (``_pload``) and generation profile of the data set, by SimBench's own
    reader: ``load:<name>`` and ``res:<name>`` arrays of 35,136 values."""
    try:
        import simbench
    except ImportError as exc:  # a declared dependency: a broken install
        raise ProfileError("power.profiles = 'simbench' needs the simbench package") from exc
    data = simbench.read_csv_data(simbench.complete_data_path(SCENARIO), sep=";",
                                  tablename=["LoadProfile", "RESProfile"])
    out: dict[str, np.ndarray] = {}
    for table, prefix, suffix in (("LoadProfile", "load:", "_pload"), ("RESProfile", "res:", "")):
        df = data[table]
        for col in df.columns:
            if col == "time" or not col.endswith(suffix):
                continue
            name = col[: len(col) - len(suffix)] if suffix else col
            out[prefix + name] = df[col].to_numpy(dtype=float)
    return out


@functools.lru_cache(maxsize=1)
def _archive() -> object:
    """The cached profiles (written on first use), opened lazily: members load on access."""
    path = _cache_path()
    if not path.is_file():
        arrays = _read_csv()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)
            os.replace(tmp, path)
        except OSError as exc:  # a read-only home: read the CSVs again next time
            log.warning("cannot cache SimBench profiles in %s: %s", path.parent, exc)
            return arrays
    return np.load(path)


@functools.lru_cache(maxsize=256)
def raw(kind: str, name: str) -> np.ndarray:
    """SimBench's year of profile ``name`` (``kind`` ``load``: per unit of the load's
    rating; ``res``: per unit of rated power), 35,136 15-min values."""
    arc = _archive()
    key = f"{kind}:{name}"
    if key not in arc:
        known = sorted(k.split(":", 1)[1] for k in arc if k.startswith(kind + ":"))
        raise ProfileError(f"SimBench has no {kind} profile {name!r}; known: {', '.join(known)}")
    values = np.asarray(arc[key], dtype=float)
    values.setflags(write=False)
    return values


@functools.lru_cache(maxsize=1)
def load_names() -> frozenset[str]:
    """The names of SimBench's load profiles."""
    return frozenset(k.split(":", 1)[1] for k in _archive() if k.startswith("load:"))


@functools.lru_cache(maxsize=256)
def _load_cumsum(name: str) -> np.ndarray:
    """Cumulative sum (from 0) of load profile ``name`` over its annual mean, per slot."""
    p = raw("load", name)
    return np.concatenate([[0.0], np.cumsum(p / p.mean())])


@functools.lru_cache(maxsize=256)
def peak_over_mean(name: str) -> float:
    """Load profile ``name``'s highest 15-min value of the year over its annual mean."""
    p = raw("load", name)
    return float(p.max() / p.mean())


def household_scale(name: str) -> float:
    """What a household load following ``name`` draws over ``p_mw x profile / mean``, so
    that its year peaks at ``PEAK_FACTOR x p_mw``: ``PEAK_FACTOR / peak_over_mean``."""
    return PEAK_FACTOR / peak_over_mean(name)


@functools.lru_cache(maxsize=4)
def _pv_tables(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative sums of PV profile ``name`` and of its clear-sky envelope."""
    p = raw("res", name)
    days = p.reshape(YEAR_DAYS, SLOTS_PER_DAY)
    k = CLEAR_SKY_DAYS
    padded = np.concatenate([days[-k:], days, days[:k]])
    clear = np.max(np.stack([padded[i:i + YEAR_DAYS] for i in range(2 * k + 1)]), axis=0).ravel()
    return np.concatenate([[0.0], np.cumsum(p)]), np.concatenate([[0.0], np.cumsum(clear)])


def start_day(seed: int, season: str) -> int:
    """The day of the year (0 = 1 Jan 2016) a run of ``seed`` in ``season`` starts on."""
    if season not in SEASON_DAYS:
        raise ProfileError(f"unknown season {season!r}; choose one of {sorted(SEASON_DAYS)}")
    days = SEASON_DAYS[season]
    return days[int(stream(int(seed), "power-profile-day", season).integers(len(days)))]


def _mean(cum: np.ndarray, start_slot: float, t0: float, t1: float) -> float:
    """Mean of a slot-held series (cumulative sum ``cum``) over [t0, t1) s from
    ``start_slot``, wrapping at the end of the year. A step inside one slot gets that
    slot's value, the same float for every such step (interpolating the cumulative sum
    would jitter it by ~1e-12, so the steps of an unchanged slot would not be equal)."""
    n = len(cum) - 1
    s0 = start_slot * SLOT_S + t0
    s1 = start_slot * SLOT_S + t1
    if -(-s1 // SLOT_S) - s0 // SLOT_S == 1:  # [t0, t1) lies in one slot
        i = int(s0 // SLOT_S) % n
        return float(cum[i + 1] - cum[i])
    a = start_slot + t0 / SLOT_S
    b = start_slot + t1 / SLOT_S

    def at(x: float) -> float:  # integral from slot 0 to x (slots), over whole years
        whole, frac = divmod(x, n)
        i = int(frac)
        return whole * cum[n] + cum[i] + (frac - i) * (cum[i + 1] - cum[i])

    return (at(b) - at(a)) / (b - a)


class SimbenchSeries:
    """The profiles of one run: the start day from ``seed`` and ``season``, factors per
    step of ``step_s`` seconds (see the module docstring)."""

    def __init__(self, seed: int, season: str, step_s: int, pv_profile: str = PV_PROFILE) -> None:
        self.day = start_day(seed, season)
        self.start_slot = self.day * SLOTS_PER_DAY
        self.step_s = int(step_s)
        self.pv_profile = pv_profile
        self._pv, self._clear = _pv_tables(pv_profile)
        self.known_loads = load_names()

    def load_factor(self, name: str, t: float) -> float:
        """Demand of a load following ``name`` over its annual mean, step ``[t, t + step_s)``."""
        return _mean(_load_cumsum(name), self.start_slot, t, t + self.step_s)

    def load_factors(self, names: list[str | None], t: float) -> np.ndarray:
        """:meth:`load_factor` per load (NaN where a load has no profile); each profile
        once."""
        uniq = sorted({n for n in names if n})
        values = dict(zip(uniq, (self.load_factor(n, t) for n in uniq), strict=True))
        return np.array([values[n] if n else np.nan for n in names])

    def pv(self, t: float) -> float:
        """PV output per unit of rated power over the step."""
        return _mean(self._pv, self.start_slot, t, t + self.step_s)

    def pv_clear(self, t: float) -> float:
        """The clear-sky envelope of the PV profile over the step (per unit)."""
        return _mean(self._clear, self.start_slot, t, t + self.step_s)
