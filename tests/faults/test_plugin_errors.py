"""A plug-in that raises during a run is named with its ``module:Class`` and method, and the
failure brings no asyncio noise ("Task was destroyed but it is pending!")."""

from __future__ import annotations

import os
from pathlib import Path

from faultkit import SCENARIO, fresh_out, twin

from twin import results

BOOM = '''
from twin.models.power.policy import DefaultPowerPolicy

class Boom(DefaultPowerPolicy):
    def decide(self, *args, **kwargs):
        raise RuntimeError("boom at decide")
'''


def test_raising_policy_is_named(tmp_path: Path, reference: Path) -> None:
    (tmp_path / "boom_policy.py").write_text(BOOM)
    scenario = tmp_path / "s.toml"
    scenario.write_text(SCENARIO + '[power]\npolicy = "boom_policy:Boom"\n')
    out = fresh_out(tmp_path, reference)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = twin("run", scenario, "--out", out, env=env)
    assert done.returncode not in (0, 2), done.stderr
    assert "boom_policy:Boom.decide() raised RuntimeError: boom at decide" in done.stderr, done.stderr
    assert "Task was destroyed" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    (path,) = [p for p in out.glob("*.h5") if not p.name.endswith(results.PARTIAL_SUFFIX)]
    assert results.load(path).status == "failed"
