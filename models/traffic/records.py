"""What the traffic model reports: one step's measurements and a repair crew's trip."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CrewTrip:
    """One repair-crew trip: dispatched by control, driven in SUMO."""

    crew: str
    asset: str
    origin_edge: str
    destination_edge: str
    cause_id: str
    vehicle_id: str
    dispatched_s: float
    route: tuple[str, ...] = ()
    free_flow_s: float = 0.0  # travel time of the route at the speed limits
    status: str = "en_route"  # en_route | arrived | no_route | cancelled
    arrival_s: float = -1.0

    @property
    def travel_time_s(self) -> float:
        return self.arrival_s - self.dispatched_s if self.arrival_s >= 0 else -1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable record (what ``crew_arrivals`` carries)."""
        return {
            "asset": self.asset, "status": self.status, "origin": self.origin_edge,
            "destination": self.destination_edge, "dispatched_s": float(self.dispatched_s),
            "arrival_s": float(self.arrival_s), "travel_time_s": float(self.travel_time_s),
            "free_flow_s": round(float(self.free_flow_s), 3), "route_edges": len(self.route),
            "cause_id": self.cause_id,
        }


@dataclass
class StepStats:
    """What one ``advance`` measured over ``[start_s, end_s)``."""

    start_s: float
    end_s: float
    time_loss_h: float = 0.0
    travel_time_index: float = 1.0
    vehicles_running: int = 0
    departed: int = 0
    arrived: int = 0
    teleports: int = 0
    stuck: int = 0
    cancelled: int = 0  # trips not started: start or end street closed, or no open route
    abandoned: int = 0  # trips given up on the way: on a road as it closed, or cut off
    district_travel_time_index: dict[str, float] = field(default_factory=dict)
    district_time_loss_h: dict[str, float] = field(default_factory=dict)
    crews_finished: list[CrewTrip] = field(default_factory=list)
