"""Plug-ins: user classes named in a scenario as ``"package.module:Class"``.

Power policies and crew-dispatch policies are loaded the same way; each kind names the
method its interface requires and the exception it raises. ``twin validate`` (and ``twin
run`` before any simulation) loads each plug-in once, so a missing module or class, wrong
parameters, a constructor that raises or a missing method is an input error (exit 2); an
exception the method raises during a run names the plug-in's ``module:Class`` and method,
and so does a value it returns that is not of the interface's shape (``returns``).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

# Says what is wrong with a plug-in's return value (e.g. "returned a list, expected ..."),
# or None when it has the interface's shape.
ReturnCheck = Callable[[Any], "str | None"]


def load_plugin(spec: str, method: str, error: type[Exception], what: str,
                returns: ReturnCheck | None = None, **params: Any) -> Any:
    """Instantiate the class ``spec`` names with ``params`` and check it has ``method``.

    Every problem (a malformed spec, a missing module or class, parameters the class does
    not take, a constructor that raises, a missing method) raises ``error`` with a message
    naming ``spec``. The returned instance's ``method`` re-raises any exception as ``error``
    naming ``spec`` and the method, with the original as its cause, and raises ``error``
    naming them with what ``returns`` finds wrong in a return value.
    """
    module_name, sep, class_name = spec.partition(":")
    if not sep or not module_name or not class_name:
        raise error(f"{what} {spec!r} must look like 'package.module:Class'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise error(f"cannot import {what} module {module_name!r}: {exc}") from exc
    except Exception as exc:  # the module itself raises on import: still the plug-in's fault
        raise error(f"importing {what} module {module_name!r} raised {type(exc).__name__}: {exc}") from exc
    cls = getattr(module, class_name, None)
    if cls is None:
        raise error(f"module {module_name!r} has no class {class_name!r}")
    if not isinstance(cls, type):
        raise error(f"{what} {spec!r} is not a class")
    try:
        plugin = cls(**params)
    except TypeError as exc:
        raise error(f"{what} {spec!r} does not accept parameters {sorted(params)}: {exc}") from exc
    except Exception as exc:
        raise error(f"{what} {spec!r}: __init__() raised {type(exc).__name__}: {exc}") from exc
    bound = getattr(plugin, method, None)
    if not callable(bound):
        raise error(f"{what} {spec!r} has no {method}() method")
    try:
        setattr(plugin, method, _named(bound, spec, method, error, what, returns))
    except AttributeError:  # __slots__ or a frozen class: leave the method as it is
        pass
    return plugin


def _named(bound: Any, spec: str, method: str, error: type[Exception], what: str,
           returns: ReturnCheck | None = None) -> Any:
    """``bound`` with its exceptions, and return values ``returns`` refuses, raised as
    ``error`` naming ``spec`` and ``method``."""

    @functools.wraps(bound)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            value = bound(*args, **kwargs)
        except Exception as exc:
            raise error(f"{what} {spec}.{method}() raised {type(exc).__name__}: {exc}") from exc
        problem = returns(value) if returns is not None else None
        if problem:
            raise error(f"{what} {spec}.{method}() {problem}")
        return value

    return call


def kind_of(value: Any) -> str:
    """``value``'s type for a message: "a list", "an int", "None"."""
    if value is None:
        return "None"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
