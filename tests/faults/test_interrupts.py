"""SIGINT, SIGTERM and SIGKILL during a run: nothing looks finished that is not, nothing is
lost, no traceback or asyncio noise, and a rerun without --force completes with the very
results of an uninterrupted run."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from faultkit import final_files, fresh_out, same_results, start, twin, wait_for

from twin import results


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["int", "term", "kill"])
def test_signal_during_run_then_rerun_completes(tmp_path: Path, scenario_file: Path, reference: Path,
                                                sig: signal.Signals) -> None:
    out = fresh_out(tmp_path, reference)
    proc = start("run", scenario_file, "--out", out)
    wait_for(lambda: any(out.glob(f"*{results.PARTIAL_SUFFIX}")) or proc.poll() is not None)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    left = final_files(out)  # a signal during the final rename may leave the complete file
    assert all(results.is_complete(p) for p in left), "an interrupted run is never a final file"
    if sig != signal.SIGKILL:
        assert proc.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143}[sig], err
        assert "Traceback" not in err and "Task was destroyed" not in err, err
        assert "unfinished runs are left" in err
        assert not list(out.glob("*.lock")), "the lock is released"
    rerun = twin("run", scenario_file, "--out", out)
    assert rerun.returncode == 0, rerun.stderr
    (path,) = final_files(out)
    same_results(path, reference)
    assert not list(out.glob(f"*{results.PARTIAL_SUFFIX}")), "stale partial files are cleared"
    assert not list(out.glob("*.lock"))


def test_a_signal_lost_in_a_destructor_still_stops(capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Python drops an exception raised in a destructor; twin remembers the signal instead of
    printing an 'Exception ignored' traceback, and stops after the command."""
    import sys

    from twin import cli

    monkeypatch.setattr(cli, "_SIGNALLED", [])
    monkeypatch.setattr(sys, "unraisablehook", cli._unraisable)

    class Dies:
        def __del__(self) -> None:
            raise cli.Terminated()

    Dies()
    assert cli._SIGNALLED == [signal.SIGTERM]
    assert capsys.readouterr().err == ""
