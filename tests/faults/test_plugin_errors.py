"""A plug-in that raises, or returns garbage, during a run is named with its ``module:Class``
and method, the run is failed (never complete), and the failure brings no asyncio noise
("Task was destroyed but it is pending!"). Plug-ins that do so already on validation's
sample input are in the corpus (tests/core/test_config_corpus.py)."""

from __future__ import annotations

import os
from pathlib import Path

from faultkit import SCENARIO, fresh_out, twin

from twin import results

BOOM = '''
from twin.models.power.policy import DefaultPowerPolicy

class Boom(DefaultPowerPolicy):
    """Raises once the run is going (at t = 0 validation samples it: see the corpus)."""
    def decide(self, telemetry):
        if telemetry["time_s"] < 600:
            return super().decide(telemetry)
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


GARBAGE = '''
from twin.control.dispatch import DefaultDispatchPolicy
from twin.models.power.policy import DefaultPowerPolicy

class LatePolicy(DefaultPowerPolicy):
    """Good commands while validation samples it (t = 0), a list once the run is going."""
    def decide(self, telemetry):
        if telemetry["time_s"] < 600:
            return super().decide(telemetry)
        return [("power/load/x", 0.0)]

class LateDispatch(DefaultDispatchPolicy):
    def assign(self, time_s, crews, jobs):
        if time_s == 0:
            return super().assign(time_s, crews, jobs)
        return {c["id"]: 7 for c in crews}
'''


def _garbage_run(tmp_path: Path, reference: Path, tables: str) -> tuple[str, Path]:
    (tmp_path / "garbage_policy.py").write_text(GARBAGE)
    scenario = tmp_path / "s.toml"
    scenario.write_text(SCENARIO + tables)
    out = fresh_out(tmp_path, reference)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = twin("run", scenario, "--out", out, env=env)
    assert done.returncode not in (0, 2), done.stderr
    assert "Task was destroyed" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    finals = [p for p in out.glob("*.h5") if not p.name.endswith(results.PARTIAL_SUFFIX)]
    assert [results.load(p).status for p in finals] == ["failed"], "never presented as complete"
    return done.stderr, finals[0]


def test_policy_returning_garbage_mid_run_is_named(tmp_path: Path, reference: Path) -> None:
    err, _ = _garbage_run(tmp_path, reference, '[power]\npolicy = "garbage_policy:LatePolicy"\n')
    assert ("garbage_policy:LatePolicy.decide() returned a list, expected a dict of commands "
            "{asset: {value, cause_id}}") in err, err


def test_dispatch_returning_garbage_mid_run_is_named(tmp_path: Path, reference: Path) -> None:
    err, _ = _garbage_run(tmp_path, reference, '[repair]\nmode = "crews"\n[restoration]\n'
                          'dispatch = "garbage_policy:LateDispatch"\n[restoration.crews]\npower = 1\n')
    assert "garbage_policy:LateDispatch.assign() returned 'power-1': 7 (a str: an int)" in err, err
