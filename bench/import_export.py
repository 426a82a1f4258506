"""Import and export at scale over HTTP against a `quorum start` subprocess; prints one JSON object.

python bench/import_export.py --tasks 100000 [--db postgres|sqlite] [--pages 30] [--only pages]
"""

import argparse
import json
import threading
import time
from typing import Any

import httpx

from app import __version__
from bench.common import commit, family, fresh_database, machine, percentiles, rss_mb, server

CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>"""
RESULT = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]


def task(i: int) -> dict[str, Any]:
    return {
        "data": {"text": f"review number {i}: the product works as described, nothing special"},
        "annotations": [{"result": RESULT, "lead_time": 2.5}],
    }


def import_batches(http: httpx.Client, project: int, n: int, batch: int = 1000) -> dict[str, float]:
    started = time.perf_counter()
    for start in range(0, n, batch):
        body = [task(i) for i in range(start, min(n, start + batch))]
        response = http.post(f"/api/projects/{project}/import", json=body)
        response.raise_for_status()
    seconds = time.perf_counter() - started
    return {"tasks": n, "seconds": round(seconds, 2), "tasks_per_s": round(n / seconds)}


def import_file_job(http: httpx.Client, n: int) -> dict[str, Any]:
    """One JSON file of `n` tasks uploaded to a new project; past the server's sync limit it is answered
    as a job, polled to the end."""
    project = http.post("/api/projects", json={"title": "upload", "label_config": CONFIG}).json()["id"]
    body = json.dumps([task(i) for i in range(n)]).encode()
    started = time.perf_counter()
    response = http.post(f"/api/projects/{project}/import", files={"file": ("tasks.json", body)})
    response.raise_for_status()
    answered = time.perf_counter() - started
    status = {"status": "completed"}
    if job := response.json().get("import"):
        while (status := http.get(f"/api/projects/{project}/imports/{job}").json())["status"] not in (
            "completed",
            "failed",
        ):
            time.sleep(0.5)
    seconds = time.perf_counter() - started
    return {
        "tasks": n,
        "tasks_in_project": http.get(f"/api/projects/{project}").json()["task_number"],
        "file_mb": round(len(body) / 1024**2, 1),
        "as_job": bool(job),
        "answered_s": round(answered, 2),
        "seconds": round(seconds, 2),
        "status": status["status"],
        "error": status.get("error") or None,
        "tasks_per_s": round(n / seconds),
    }


class MemoryWatch:
    """Samples the server's RSS while an export runs. Its processes are listed once, up front: a
    `pgrep` at every sample would take CPU from the export it measures."""

    def __init__(self, pid: int):
        self.pids = family(pid)
        self.base = rss_mb(self.pids)
        self.peak = self.base
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_mb(self.pids))
            time.sleep(0.05)

    def __enter__(self) -> "MemoryWatch":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()


def export(http: httpx.Client, project: int, kind: str, pid: int, n: int) -> dict[str, Any]:
    with MemoryWatch(pid) as memory:
        started = time.perf_counter()
        first = None
        size = 0
        with http.stream("GET", f"/api/projects/{project}/export", params={"exportType": kind}) as response:
            response.raise_for_status()
            for chunk in response.iter_raw():
                if first is None:
                    first = time.perf_counter() - started
                size += len(chunk)
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "tasks_per_s": round(n / seconds),
        "first_byte_ms": round((first or 0) * 1000, 1),
        "bytes": size,
        "server_rss_growth_mb": round(memory.peak - memory.base, 1),
    }


# the query the SDK's get_labeled_tasks sends (every task here is labeled: it carries an annotation)
LABELED = json.dumps(
    {
        "filters": {
            "conjunction": "and",
            "items": [
                {
                    "filter": "filter:tasks:completed_at",
                    "operator": "empty",
                    "value": False,
                    "type": "Datetime",
                }
            ],
        }
    }
)


def task_pages(
    http: httpx.Client, project: int, n: int, samples: int, query: str | None = None
) -> dict[str, Any]:
    size = 100
    last = max(1, (n + size - 1) // size)
    params: dict[str, Any] = {"project": project, "page_size": size} | ({"query": query} if query else {})
    out = {}
    for name, page in (("first", 1), ("middle", last // 2 or 1), ("last", last)):
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            http.get("/api/tasks", params=params | {"page": page}).raise_for_status()
            times.append(time.perf_counter() - started)
        out[name] = percentiles(times)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--pages", type=int, default=30, help="samples per task-list page")
    parser.add_argument("--only", choices=["pages"], help="import, then time the task list only")
    args = parser.parse_args()
    with fresh_database(args.db) as url, server(url) as quorum:
        headers = {"Authorization": f"Token {quorum.token}"}
        with httpx.Client(base_url=quorum.url, headers=headers, timeout=600) as http:
            project = http.post("/api/projects", json={"title": "bench", "label_config": CONFIG}).json()["id"]
            figures: dict[str, Any] = {
                "benchmark": "import_export",
                "version": __version__,
                "commit": commit(),
                "machine": machine(),
                "database": args.db,
                "tasks": args.tasks,
                "import_json_batches_of_1000": import_batches(http, project, args.tasks),
            }
            if not args.only:
                figures["import_file_job"] = import_file_job(http, args.tasks)
            for kind in () if args.only else ("JSON", "CSV"):
                figures[f"export_{kind.lower()}"] = export(
                    http, project, kind, quorum.process.pid, args.tasks
                )
            figures["task_list_page_ms"] = task_pages(http, project, args.tasks, args.pages)
            figures["labeled_task_list_page_ms"] = task_pages(http, project, args.tasks, args.pages, LABELED)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
