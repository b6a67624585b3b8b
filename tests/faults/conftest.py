"""Fixtures of the fault-injection tests (helpers in faultkit.py)."""

from faultkit import reference, scenario_file  # noqa: F401
