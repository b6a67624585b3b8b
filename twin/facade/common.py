"""The plumbing every element facade shares: one network entity whose children are the
sector's elements, attribute checks, and input merging. No sector logic lives here.

A facade simulator has one public model, ``Network``; ``create(1, "Network", ...)`` opens
the network (a twin region or a plain native file) and returns one entity whose
``children`` are its elements, each of a non-public model (``Bus``, ``Line``, ``Junction``
...) with mosaik-style attributes (units in brackets: ``P[MW]``, ``pressure[m]``).
Inputs and outputs naming an unknown element, or an attribute its model does not have,
raise :class:`FacadeError` naming both, so a typo in a foreign scenario fails at the first
step instead of being ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import mosaik_api_v3

NETWORK = "Network"
# The cause recorded for failures and lost power that a foreign simulator set: the facade
# knows no event behind them (an empty cause would read as "no outage" to the ICT model).
EXTERNAL_CAUSE = "external"


class FacadeError(ValueError):
    """A facade was asked for an element, model or attribute it does not have."""


@dataclass(frozen=True)
class ElementModel:
    """One kind of element: the attributes mosaik may set (inputs) and read (outputs)."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    doc: str = ""


def number(value: Any) -> float | None:
    """A float for mosaik, or ``None`` where the value is not meaningful (nan: e.g. the
    voltage of a dead bus), never nan, which JSON (``cmd:`` simulators) cannot carry."""
    if value is None:
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def unique_names(names: list[Any], prefix: str) -> list[str]:
    """Element ids from a native file's names: a missing or empty name becomes
    ``<prefix>/<position>``, a repeated one gets ``#<position>`` so every id is unique."""
    out: list[str] = []
    seen: set[str] = set()
    for pos, name in enumerate(names):
        text = "" if name is None or (isinstance(name, float) and math.isnan(name)) else str(name)
        text = text or f"{prefix}/{pos}"
        if text in seen:
            text = f"{text}#{pos}"
        seen.add(text)
        out.append(text)
    return out


class ElementSimulator(mosaik_api_v3.Simulator):
    """Base of the facade simulators; a subclass sets ``SECTOR``, ``MODELS`` and
    ``NETWORK_PARAMS`` and implements :meth:`open`, :meth:`advance` and :meth:`read`."""

    SECTOR = ""
    MODELS: dict[str, ElementModel] = {}
    NETWORK_PARAMS: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__(self.meta_data())
        self.step_s = 300
        self.elements: dict[str, str] = {}  # element id -> model

    @classmethod
    def meta_data(cls) -> dict[str, Any]:
        models: dict[str, Any] = {NETWORK: {"public": True, "params": list(cls.NETWORK_PARAMS), "attrs": []}}
        for name, m in cls.MODELS.items():
            models[name] = {"public": False, "params": [], "attrs": list(dict.fromkeys(m.inputs + m.outputs))}
        return {"api_version": "3.0", "type": "time-based", "models": models}

    # --- mosaik API ---------------------------------------------------------------------
    def init(self, sid: str, time_resolution: float = 1.0, step_s: int = 300, **_: Any) -> dict[str, Any]:
        if float(time_resolution) != 1.0:
            raise FacadeError(f"{self.SECTOR} facade needs time_resolution 1.0 s, got {time_resolution}")
        if int(step_s) <= 0:
            raise FacadeError(f"step_s must be positive, got {step_s}")
        self.step_s = int(step_s)
        return self.meta

    def create(self, num: int, model: str, **params: Any) -> list[dict[str, Any]]:
        if model != NETWORK:
            raise FacadeError(f"the {self.SECTOR} facade creates only {NETWORK!r} entities, not {model!r}; "
                              f"elements ({', '.join(self.MODELS)}) are its children")
        if num != 1 or self.elements:
            raise FacadeError(f"the {self.SECTOR} facade holds one network: create(1, {NETWORK!r}, ...)")
        unknown = sorted(set(params) - set(self.NETWORK_PARAMS))
        if unknown:
            raise FacadeError(f"{self.SECTOR} {NETWORK} has no parameter(s) {unknown}; "
                              f"it takes {list(self.NETWORK_PARAMS)}")
        self.elements = self.open(**params)
        children = [{"eid": eid, "type": m, "rel": []} for eid, m in self.elements.items()]
        return [{"eid": self.SECTOR, "type": NETWORK, "rel": [], "children": children}]

    def step(self, time: int, inputs: dict[str, Any], max_advance: int | None = None) -> int:
        failed: set[str] = set()
        values: dict[str, dict[str, Any]] = {}
        for eid, attrs in inputs.items():
            model = self._model(eid)
            for attr, by_source in attrs.items():
                if attr not in model.inputs:
                    raise FacadeError(f"{self.SECTOR} element {eid!r} ({self.elements[eid]}) has no input "
                                      f"{attr!r}; its inputs are {list(model.inputs)}")
                if attr == "failed":
                    if any(bool(v) for v in by_source.values()):  # any source failing it
                        failed.add(eid)
                    continue
                given = {src: v for src, v in by_source.items() if v is not None}
                if len({repr(v) for v in given.values()}) > 1:
                    raise FacadeError(f"{self.SECTOR} element {eid!r}: sources {sorted(given)} set {attr!r} "
                                      f"to different values {sorted(given.values(), key=repr)}")
                if given:
                    values.setdefault(eid, {})[attr] = next(iter(given.values()))
        self.advance(int(time), failed, values)
        return int(time) + self.step_s

    def get_data(self, outputs: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
        data: dict[str, dict[str, Any]] = {}
        for eid, attrs in outputs.items():
            model = self._model(eid)
            for attr in attrs:
                if attr not in model.outputs:
                    raise FacadeError(f"{self.SECTOR} element {eid!r} ({self.elements[eid]}) has no output "
                                      f"{attr!r}; its outputs are {list(model.outputs)}")
            data[eid] = {attr: self.read(eid, attr) for attr in attrs}
        return data

    def _model(self, eid: str) -> ElementModel:
        model = self.elements.get(eid)
        if model is None:
            raise FacadeError(f"the {self.SECTOR} facade has no element {eid!r}")
        return self.MODELS[model]

    # --- what a sector implements -------------------------------------------------------
    def open(self, **params: Any) -> dict[str, str]:
        """Open the network; return {element id: model name}."""
        raise NotImplementedError

    def advance(self, time_s: int, failed: set[str], values: dict[str, dict[str, Any]]) -> None:
        """Step the network over ``[time_s, time_s + step_s)`` with these inputs."""
        raise NotImplementedError

    def read(self, eid: str, attr: str) -> Any:
        """The current value of an output."""
        raise NotImplementedError
