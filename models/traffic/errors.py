"""The traffic model's exception types, and SUMO's own (caught as outcomes)."""

from __future__ import annotations


class TrafficError(RuntimeError):
    """Base class of the traffic model's errors."""


class SumoBusyError(TrafficError):
    """libsumo allows one SUMO per process and another model is running it."""


class NotStartedError(TrafficError):
    """The model was used before ``start()`` or after ``close()``."""


class UnknownRoadError(TrafficError, KeyError):
    """A road (edge) id that the network does not have."""


class UnknownSignalError(TrafficError, KeyError):
    """A traffic light id that the network does not have."""


class UnknownPlaceError(TrafficError, KeyError):
    """A crew origin/destination that is neither an edge nor a known place."""


def sumo_errors() -> tuple[type[BaseException], ...]:
    """Exception types SUMO raises through libsumo or TraCI (caught as outcomes)."""
    import libsumo
    from traci.exceptions import FatalTraCIError, TraCIException

    return (libsumo.TraCIException, TraCIException, FatalTraCIError)
