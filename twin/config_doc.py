"""The scenario reference (docs/scenario.md), generated from the models of twin.config:
``python -m twin.config > docs/scenario.md``."""

from __future__ import annotations

import json
from typing import Any, get_origin

from pydantic import BaseModel

from twin.config import (
    HAZARD_MODELS,
    ControlSection,
    FileTransform,
    PowerSection,
    ProtectionSection,
    RegionFiles,
    RegionSection,
    RepairSection,
    RestorationSection,
    RunSection,
    TrafficSection,
    WaterSection,
)
from twin.region.params import CONFIGURATIONS, DEFAULTS


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) is None and hasattr(annotation, "__name__"):
        return annotation.__name__
    text = str(annotation).replace("typing.", "").replace("twin.config.", "").replace("__main__.", "")
    return text.replace("|", "\\|")


def scenario_reference() -> str:
    """Markdown reference of every scenario key, generated from the models (docs/scenario.md)."""
    from twin.region.params import ConfigurationParams

    lines = [
        "# Scenario reference",
        "",
        "Generated from the schema in `twin/config.py` and `twin/region/params.py` by",
        "`python -m twin.config > docs/scenario.md`; a test keeps it in step with the code.",
        "Unknown keys are errors. `twin validate FILE` checks a file and lists every problem.",
        "",
    ]

    def table(title: str, model: type[BaseModel], note: str = "") -> None:
        lines.extend([f"## `{title}`", ""])
        if model.__doc__:
            lines.extend([" ".join(model.__doc__.split()), ""])
        if note:
            lines.extend([note, ""])
        lines.append("| key | type | default | meaning |")
        lines.append("|---|---|---|---|")
        for name, f in model.model_fields.items():
            if f.is_required():
                default = "required"
            elif f.default_factory is not None:
                made = f.default_factory()  # type: ignore[call-arg]
                default = "table" if isinstance(made, BaseModel) else f"`{json.dumps(made)}`"
            else:
                default = f"`{json.dumps(f.default)}`"
            lines.append(f"| `{name}` | {_type_name(f.annotation)} | {default} | {f.description or ''} |")
        lines.append("")

    table("[run]", RunSection)
    table("[region]", RegionSection)
    base = ConfigurationParams().model_dump()
    defaults = "; ".join(
        f"`{c}`: " + (", ".join(f"{k}={v}" for k, v in DEFAULTS[c].model_dump().items()
                               if v != base[k]) or "the base values")
        for c in CONFIGURATIONS
    )
    table("[region.files]", RegionFiles)
    table("[region.files.transforms.<sector>]", FileTransform)
    table("[region.configurations.<name>]", ConfigurationParams,
          "Defaults differ per configuration; the table shows the base values. Overrides per "
          f"configuration: {defaults}.")
    for title, model in (("[power]", PowerSection), ("[power.protection]", ProtectionSection),
                         ("[water]", WaterSection),
                         ("[traffic]", TrafficSection), ("[control]", ControlSection),
                         ("[repair]", RepairSection), ("[restoration]", RestorationSection)):
        table(title, model)
    for model in HAZARD_MODELS:
        table(f"[[hazards]] kind = \"{model.model_fields['kind'].annotation.__args__[0]}\"", model)
    return "\n".join(lines)
