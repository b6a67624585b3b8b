"""Plug-ins: user classes named in a scenario as ``"package.module:Class"``.

Power policies and crew-dispatch policies are loaded the same way; each kind names the
method its interface requires and the exception it raises.
"""

from __future__ import annotations

import importlib
from typing import Any


def load_plugin(spec: str, method: str, error: type[Exception], what: str, **params: Any) -> Any:
    """Instantiate the class ``spec`` names with ``params`` and check it has ``method``.

    Every problem (a malformed spec, a missing module or class, parameters the class does
    not take, a missing method) raises ``error`` with a message naming ``spec``.
    """
    module_name, sep, class_name = spec.partition(":")
    if not sep or not module_name or not class_name:
        raise error(f"{what} {spec!r} must look like 'package.module:Class'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise error(f"cannot import {what} module {module_name!r}: {exc}") from exc
    cls = getattr(module, class_name, None)
    if cls is None:
        raise error(f"module {module_name!r} has no class {class_name!r}")
    try:
        plugin = cls(**params)
    except TypeError as exc:
        raise error(f"{what} {spec!r} does not accept parameters {sorted(params)}: {exc}") from exc
    if not callable(getattr(plugin, method, None)):
        raise error(f"{what} {spec!r} has no {method}() method")
    return plugin
