"""Filesystem faults are one-line messages with exit 1 (environment) or 2 (input), never a
traceback: a read-only or full results folder, a file where a folder belongs, bytes that are
not UTF-8, a closed stdout. Real read-only and full filesystems are tmpfs mounts in a
private mount namespace."""

from __future__ import annotations

import errno
import io
import json
import subprocess
from pathlib import Path

import pytest
from faultkit import TWIN, final_files, fresh_out, in_mount, needs_mount, same_results, twin

from twin.cli import main


def one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if ln]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_out_naming_a_file(tmp_path: Path, scenario_file: Path) -> None:
    out = tmp_path / "results.txt"
    out.write_text("not a folder")
    done = twin("run", scenario_file, "--out", out)
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert str(out) in line and "folder" in line


@pytest.mark.parametrize("which", ["scenario", "sweep"])
def test_non_utf8_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str) -> None:
    path = tmp_path / "bad.toml"
    body = b'[run]\nname = "caf\xe9"\n' if which == "scenario" else b'base = "s.toml"\n# \xff\n'
    path.write_bytes(body)
    for argv in (["validate", str(path)], ["run", str(path), "--out", str(tmp_path / "o")]):
        assert main(argv) == 2
        line = one_line(capsys.readouterr().err)
        assert str(path) in line and "UTF-8" in line
    assert not (tmp_path / "o").exists()


@needs_mount
@pytest.mark.parametrize("command", ["run", "report", "sweep", "region"])
def test_read_only_output(tmp_path: Path, scenario_file: Path, reference: Path, command: str) -> None:
    ro = tmp_path / "ro"
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f'base = "{scenario_file}"\nseeds = 1\n')
    argv = {
        "run": ["run", scenario_file, "--out", ro / "out"],
        "report": ["report", reference, "--out", ro / "report"],
        "sweep": ["sweep", sweep, "--out", ro / "sweep", "--workers", "1", "--no-progress"],
        "region": ["region", "build", scenario_file, "--out", ro / "region", "--cache", reference.parent],
    }[command]
    done = in_mount(ro, "ro", *argv)
    assert done.returncode == 1, done.stderr
    line = one_line(done.stderr)
    assert str(ro) in line and "read-only" in line, line


@needs_mount
def test_full_disk_then_rerun(tmp_path: Path, scenario_file: Path, reference: Path) -> None:
    """A disk that fills while the results are written: a message, exit 1, no final file;
    with space again, the rerun completes with the reference's results."""
    out = tmp_path / "full"
    cache = reference.parent / ".regions"
    size_k = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) // 1024 + 120
    done = in_mount(out, f"size={size_k}k", "run", scenario_file, "--out", out,
                    prepare=f"cp -r '{cache}' '{out}/.regions' &&")
    assert done.returncode == 1, done.stderr[-2000:]
    line = one_line(done.stderr)
    assert "No space left" in line or "full" in line, line
    assert final_files(out) == []
    again = fresh_out(tmp_path, reference)
    rerun = twin("run", scenario_file, "--out", again)
    assert rerun.returncode == 0
    same_results(final_files(again)[0], reference)


def test_environment_messages_say_what_to_do() -> None:
    from twin.cli import environment_message

    msg = environment_message(OSError(errno.ENOSPC, "No space left on device", "/data/out/x.h5"))
    assert msg == ("twin: /data/out/x.h5: No space left on device; the disk is full: free space or "
                   "choose another folder (--out)")
    assert "permissions" in environment_message(PermissionError(errno.EACCES, "Permission denied", "/x"))


def test_oserror_in_a_command_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch, scenario_file: Path) -> None:
    import twin.runner

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "o" / "x.h5"))

    monkeypatch.setattr(twin.runner, "run_scenario", full)
    assert main(["run", str(scenario_file), "--out", str(tmp_path / "o")]) == 1
    assert "free space" in one_line(capsys.readouterr().err)
    assert main(["run", str(scenario_file), "--out", str(tmp_path / "o"), "--verbose"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_status_into_a_closed_pipe(tmp_path: Path) -> None:
    rows = [{"run_id": f"r{i}", "configuration": f"c{i:04d}" + "x" * 100, "seed": i, "point": 0, "params": {},
             "status": "pending", "error": "", "metrics": {}} for i in range(2000)]  # > a pipe's buffer
    (tmp_path / "manifest.json").write_text(json.dumps({"name": "s", "runs": rows}))
    shell = " ".join(f"'{a}'" for a in TWIN) + f" sweep status '{tmp_path}' | head -3"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True, timeout=120)
    assert len(done.stdout.splitlines()) == 3
    assert done.stderr == "", done.stderr
    assert done.returncode == 0


def test_broken_pipe_in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    class Closed(io.StringIO):
        def write(self, s: str) -> int:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

        def fileno(self) -> int:
            raise io.UnsupportedOperation

    rows = [{"run_id": "r", "configuration": "c", "seed": 1, "point": 0, "params": {}, "status": "pending",
             "error": "", "metrics": {}}]
    (tmp_path / "manifest.json").write_text(json.dumps({"name": "s", "runs": rows}))
    monkeypatch.setattr("sys.stdout", Closed())
    assert main(["sweep", "status", str(tmp_path)]) == 0
