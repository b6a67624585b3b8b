"""mosaik element facades: twin's sector models as mosaik entities per element, for
scenarios that are not twin's own (docs/mosaik.md).

twin's own world exchanges whole dicts between one entity per sector (faster); a facade
exposes the same domain code element by element, with mosaik-style attributes, so a
foreign mosaik scenario can connect its own simulators to single buses, lines, junctions
or pumps. ``sim_config`` entries:

- ``{"python": "twin.facade.power:PowerElements"}`` or
  ``{"cmd": "python -m twin.facade.power %(addr)s"}``;
- ``{"python": "twin.facade.water:WaterElements"}`` or
  ``{"cmd": "python -m twin.facade.water %(addr)s"}``;
- ``twin.facade.ict:IctElements`` and ``twin.facade.traffic:TrafficElements`` alike.
"""

from twin.facade.common import ElementModel, ElementSimulator, FacadeError

__all__ = ["ElementModel", "ElementSimulator", "FacadeError"]
