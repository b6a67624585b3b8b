"""Per-configuration parameters of a generated region: the one place their defaults live.

The configurations of one region differ only through these numbers (and the
``configuration`` name itself, which selects topology in the sector builders: the central
plant, :data:`CENTRAL_PLANT_CONFIGURATIONS`, and the anchor-town controller rule). A scenario
may override any of them in ``[region.configurations.<name>]``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Configuration = Literal["centralised", "centralised_hardened", "decentralised", "anchor_towns"]
CONFIGURATIONS: tuple[str, ...] = ("centralised", "centralised_hardened", "decentralised", "anchor_towns")
# Configurations whose grid has the central power plant at the water plant (the builder's
# topology choice; everything else they differ in is a parameter below).
CENTRAL_PLANT_CONFIGURATIONS: frozenset[str] = frozenset({"centralised", "centralised_hardened"})


class ConfigurationParams(BaseModel):
    """What a configuration builds. Units are in the field names."""

    model_config = ConfigDict(extra="forbid")

    prosumer_share: float = Field(0.0, ge=0, le=1, description="Share of households with rooftop PV and a battery.")
    pv_kw_per_household: float = Field(4.0, ge=0, description="Rooftop PV peak power per prosumer household, kW.")
    battery_kwh_per_household: float = Field(8.0, ge=0, description="Home battery energy per prosumer household, kWh.")
    backup_capable_share: float = Field(0.3, ge=0, le=1, description="Share of prosumer households whose inverter can island (backup-capable); the others' PV and battery trip with the grid (docs/power.md).")
    backup_kw_per_household: float = Field(3.0, ge=0, description="Backup power of a backup-capable home inverter while islanded, kW.")
    battery_reserve_share: float = Field(0.3, ge=0, le=1, description="Share of battery energy kept for outages (backup reserve mode).")
    microgrid_towns: bool = Field(False, description="Anchor towns get a grid-forming community battery and can island.")
    microgrid_villages: bool = Field(False, description="Villages get a grid-forming community battery and can island.")
    community_battery_kwh_per_household: float = Field(3.0, ge=0, description="Community (grid-forming) battery energy per household in a microgrid district, kWh.")
    wells_per_town: int = Field(0, ge=0, le=5, description="Local wells with their own small supply per anchor town.")
    wells_per_village: int = Field(0, ge=0, le=2, description="Local wells per village.")
    local_tanks: bool = Field(False, description="An elevated tank in every town (and village with a well).")
    tank_storage_h: float = Field(12.0, gt=0, le=72, description="Volume of each distribution tank (city and local), hours of the average demand it serves (tank autonomy; 12 h: models/water/build.STORAGE_H's source).")
    pump_backup_h: float = Field(0.0, ge=0, description="Fuel of the backup generator at each pump station, hours (0 = none).")
    ict_backup_h: float = Field(4.0, ge=0, description="Battery backup of each ICT site, hours.")
    ict_core_backup_h: float | None = Field(None, ge=0, description="Backup of the core ICT sites (aggregation routers, data and control centre, traffic-management centre), hours; unset: ict_backup_h.")
    substation_n1: bool = Field(False, description="N-1 at the central substation: one 110/20 kV transformer more than the peak load needs, so that any one may fail without loss of load.")
    ict_meshing: float = Field(0.0, ge=0, le=1, description="Share of extra backhaul links between neighbouring sites (0 = tree/star, 1 = full ring and cross links).")
    edge_control: bool = Field(False, description="Controllers at district edge nodes instead of one central control centre.")


# centralised_hardened: the centralised region with utility-standard backup (docs/regions.md,
# "centralised_hardened", gives the sources): 72 h of generator fuel at the treatment plant,
# the pump stations (BBK's 72 h recommendation for emergency-power fuel), 8 h batteries at
# base stations and 24 h at core sites (FCC 07-177, 47 CFR 12.2: cell sites 8 h, central
# offices 24 h), N-1 transformers at the substation.
HARDENED_PUMP_BACKUP_H = 72.0
HARDENED_ICT_BACKUP_H = 8.0
HARDENED_ICT_CORE_BACKUP_H = 24.0

DEFAULTS: dict[str, ConfigurationParams] = {
    "centralised": ConfigurationParams(),
    "centralised_hardened": ConfigurationParams(
        pump_backup_h=HARDENED_PUMP_BACKUP_H, ict_backup_h=HARDENED_ICT_BACKUP_H,
        ict_core_backup_h=HARDENED_ICT_CORE_BACKUP_H, substation_n1=True,
    ),
    "decentralised": ConfigurationParams(
        prosumer_share=0.4, microgrid_towns=True, microgrid_villages=True,
        wells_per_town=1, wells_per_village=1, local_tanks=True, pump_backup_h=8.0,
        ict_backup_h=8.0, ict_meshing=0.6, edge_control=True,
    ),
    "anchor_towns": ConfigurationParams(
        prosumer_share=0.2, microgrid_towns=True, microgrid_villages=False,
        wells_per_town=2, wells_per_village=0, local_tanks=True, pump_backup_h=12.0,
        ict_backup_h=8.0, ict_meshing=0.3, edge_control=True,
    ),
}


def params_for(configuration: str, overrides: dict | None = None) -> ConfigurationParams:
    """Defaults of a configuration with a scenario's overrides applied (validated)."""
    if configuration not in DEFAULTS:
        raise ValueError(f"unknown configuration {configuration!r}; choose one of {CONFIGURATIONS}")
    base = DEFAULTS[configuration].model_dump()
    base.update(overrides or {})
    return ConfigurationParams(**base)


def core_backup_h(params: ConfigurationParams) -> float:
    """Backup hours of a core ICT site (router, data and control centre, TMC)."""
    return params.ict_backup_h if params.ict_core_backup_h is None else params.ict_core_backup_h
