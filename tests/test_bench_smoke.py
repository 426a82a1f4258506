"""The benchmarks still run: each at a tiny size, its JSON read back (full sizes run outside the suite)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BACKEND

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="the benchmarks are measured on PostgreSQL")


def bench(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_label_stream_benchmark_runs_and_finds_no_violations():
    figures = bench(
        "bench.label_stream", "--tasks", "400", "--annotators", "4", "--seconds", "2", "--warmup", "0.5"
    )
    assert [run["mode"] for run in figures["runs"]] == ["saturation", "paced"]
    assert figures["runs"][0]["submissions"] > 0
    assert (figures["overlap_violations"], figures["duplicate_user_task_pairs"]) == (0, 0)
    assert any("LockRows" in line for line in figures["pick_plan"])  # the pick as the server runs it
    assert figures["machine"]["python_module_loop_ms"] > 0  # the machine's speed, to read the figures by


def test_import_export_benchmark_runs():
    figures = bench("bench.import_export", "--tasks", "2000", "--pages", "3")
    assert figures["tasks"] == 2000
    assert figures["machine"]["python_module_loop_ms"] > 0
    upload = figures["import_file_job"]
    assert (upload["status"], upload["tasks_in_project"]) == ("completed", 2000), upload
