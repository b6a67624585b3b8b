"""The documented Slurm example: the job script dask-jobqueue 0.9.0 generates for it (never submitted)."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

from twin.cli import build_parser
from twin.sweep import SweepClusterError, make_jobqueue_cluster
from twin.sweep.cli import jobqueue_options

pytest.importorskip("dask_jobqueue")
DOC = Path(__file__).resolve().parents[2] / "docs" / "sweeps.md"


def documented_example() -> tuple[str, str, str]:
    """(working directory, command, job script) of docs/sweeps.md's Slurm example."""
    section = DOC.read_text().split("## Worked example: Slurm", 1)[1]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    cd, command = blocks[0].strip().splitlines()
    return cd.removeprefix("cd "), command, blocks[1]


def job_script(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, list[str]]:
    workdir, command, script = documented_example()
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(command)
    assert argv[:2] == ["twin", "sweep"]
    args = build_parser().parse_args(argv[1:])
    assert args.jobqueue == "slurm"
    cluster = make_jobqueue_cluster(kind, jobqueue_options(args, args.out), scheduler_host="127.0.0.1")
    try:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        text = cluster.job_script()
    finally:
        cluster.close()
    text = re.sub(r"tcp://127\.0\.0\.1:\d+", "tcp://LOGIN-NODE:PORT", text.replace(str(tmp_path), workdir))
    return text, script, argv


def test_documented_slurm_job_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, documented, _ = job_script("slurm", tmp_path, monkeypatch)
    lines = text.splitlines()
    # resources: one task with 16 cores, 32 GB (dask-jobqueue writes 30G), 4 h, partition, account
    for directive in ("-n 1", "--cpus-per-task=16", "--mem=30G", "-t 04:00:00", "-p compute", "-A proj123"):
        assert f"#SBATCH {directive}" in lines
    # the environment: the venv is activated and its python starts 16 one-thread workers
    assert "source /home/me/twin/venv/bin/activate" in lines
    assert lines.index("source /home/me/twin/venv/bin/activate") < len(lines) - 1
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        assert f"export {var}=1" in lines
    worker = lines[-1]
    assert worker.startswith("/home/me/twin/venv/bin/python -m distributed.cli.dask_worker tcp://LOGIN-NODE:PORT")
    assert "--nworkers 16" in worker and "--nthreads 1" in worker
    # logs go to the sweep folder, by absolute path
    assert "#SBATCH -o /home/me/project/runs/storm-x-pv/jobqueue-logs/twin-worker-%J.out" in lines
    # and the page shows exactly this script
    assert text.strip() == documented.strip()


def test_same_example_on_pbs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, _, _ = job_script("pbs", tmp_path, monkeypatch)
    lines = text.splitlines()
    assert "#PBS -l select=1:ncpus=16:mem=30GB" in lines
    assert "#PBS -l walltime=04:00:00" in lines and "#PBS -q compute" in lines and "#PBS -A proj123" in lines
    assert "source /home/me/twin/venv/bin/activate" in lines
    assert "--nworkers 16" in lines[-1] and "--nthreads 1" in lines[-1]


def test_missing_dask_jobqueue_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from twin.sweep.execute import JobqueueOptions

    monkeypatch.setitem(sys.modules, "dask_jobqueue", None)  # import fails as if not installed
    with pytest.raises(SweepClusterError, match=r"pip install 'twin\[jobqueue\]'"):
        make_jobqueue_cluster("slurm", JobqueueOptions())
