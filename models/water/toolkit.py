"""The EPANET 2.2 toolkit inside wntr, called through ctypes: the library, the codes the
water sector uses (EPANET's epanet2_enums.h), and one project handle.

Loading the library directly, the calls ``wntr.epanet.toolkit.ENepanet`` makes, spares a
separate-process run wntr's package import (1.5-3 s).
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import platform
import sys
from pathlib import Path

# EPANET 2.2 toolkit codes
EN_ELEVATION, EN_BASEDEMAND, EN_EMITTER, EN_DEMAND, EN_HEAD, EN_PRESSURE = 0, 1, 3, 9, 10, 11
EN_DEMANDDEFICIT = 27
EN_DIAMETER, EN_FLOW, EN_STATUS, EN_INITSTATUS, EN_SETTING = 0, 8, 11, 4, 12
CONTROL_VALVES = frozenset({3, 4, 5, 6, 7, 8})  # PRV, PSV, PBV, FCV, TCV, GPV
EN_PATTERN = 2
EN_DURATION, EN_HYDSTEP, EN_PATTERNSTEP, EN_PATTERNSTART, EN_REPORTSTEP = 0, 1, 3, 4, 5
EN_NODECOUNT, EN_TANKCOUNT, EN_LINKCOUNT, EN_PATCOUNT, EN_CONTROLCOUNT, EN_RULECOUNT = (
    0, 1, 2, 3, 5, 6)
EN_JUNCTION, EN_RESERVOIR, EN_TANK = 0, 1, 2
EN_PUMP = 2
EN_LOWLEVEL, EN_HILEVEL = 0, 1
EN_TRIALS, EN_EMITEXPON, EN_UNBALANCED = 0, 3, 14
# flow unit code -> factor to m3/s (SI units only; US units are converted on open)
_SI_FLOW = {5: 1e-3, 6: 1e-3 / 60.0, 7: 1e3 / 86400.0, 8: 1.0 / 3600.0, 9: 1.0 / 86400.0}
EN_LPS = 5


def _library_path() -> Path:
    """The EPANET 2.2 shared library shipped inside wntr (the one ``ENepanet`` loads)."""
    spec = importlib.util.find_spec("wntr")
    if spec is None or not spec.submodule_search_locations:
        raise WaterNetworkError(0, "locating wntr (is wntr 1.5 installed?)")
    base = Path(next(iter(spec.submodule_search_locations))) / "epanet" / "libepanet"
    if os.name == "nt":
        return base / "windows-x64" / "epanet22.dll"
    if sys.platform == "darwin":
        sub = "darwin-arm/libepanet2.dylib" if "arm" in platform.platform().lower() else (
            "darwin-x64/libepanet22.dylib")
        return base / sub
    return base / "linux-x64" / "libepanet22.so"


_LIB: ctypes.CDLL | None = None


class _Toolkit:
    """One EPANET 2.2 project over the library inside wntr, called through ctypes the way
    ``wntr.epanet.toolkit.ENepanet`` does, without importing wntr (its package import costs
    1.5-3 s, which every separate-process run would pay)."""

    def __init__(self) -> None:
        global _LIB
        if _LIB is None:
            _LIB = ctypes.CDLL(str(_library_path()))
        self.ENlib = _LIB
        self._project = ctypes.c_uint64()
        self.fileLoaded = False

    def ENopen(self, inp: str, rpt: str, out: str) -> None:
        self.ENlib.EN_createproject(ctypes.byref(self._project))
        code = self.ENlib.EN_open(self._project, inp.encode("latin-1"), rpt.encode("latin-1"),
                                  out.encode("latin-1"))
        if code >= 100:
            self.ENlib.EN_deleteproject(self._project)
            raise WaterNetworkError(code, f"opening {inp}")
        self.fileLoaded = True

    def ENclose(self) -> None:
        self.ENlib.EN_close(self._project)
        self.ENlib.EN_deleteproject(self._project)
        self._project = ctypes.c_uint64()
        self.fileLoaded = False

    def ENgetcount(self, code: int) -> int:
        n = ctypes.c_int()
        self.ENlib.EN_getcount(self._project, code, ctypes.byref(n))
        return n.value

    def ENgetflowunits(self) -> int:
        n = ctypes.c_int()
        self.ENlib.EN_getflowunits(self._project, ctypes.byref(n))
        return n.value


class WaterNetworkError(RuntimeError):
    """EPANET reported an error (code >= 100) or the network cannot be stepped."""

    def __init__(self, code: int, what: str) -> None:
        super().__init__(f"EPANET error {code} while {what}")
        self.code = code
