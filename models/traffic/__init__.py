"""Traffic sector: the region's roads in Eclipse SUMO (see docs/traffic.md).

``build`` writes the road network, ``traffic.TrafficModel`` drives SUMO without mosaik,
``simulator.TrafficSim`` is the mosaik adapter. Submodules are imported on demand, so
importing this package does not load SUMO.
"""
