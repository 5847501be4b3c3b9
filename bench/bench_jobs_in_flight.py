"""Jobs in flight: 1,000 remote renders of 120 s each on two worker processes.

Run (PostgreSQL recommended; the database named is dropped and created afresh):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mediastudio_bench .venv/bin/python bench/bench_jobs_in_flight.py
    # options: --jobs 1000 --render-seconds 120 --poll-interval 5 --previews (make thumbnails of every result)

What it does: starts a Redis, a fake remote video vendor (HTTP, in this process: submit answers at
once, each render takes --render-seconds, results are distinct real MP4s) and a real qcluster with
two workers (bench/_jobs_in_flight_settings.py adds the "benchfake" provider). It submits --jobs
generations through the service the API calls, then samples once a second how many attempts are
in flight, until every job has finished. It prints (and writes to bench/out/jobs_in_flight.json):
the peak number in flight, the CPU seconds the worker processes spent per job (submit + polls +
fetch and store), the database server's CPU per job, and when the last job finished relative to
render time + poll interval.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"port {port} did not open")


# ---------------------------------------------------------------------------- fake vendor


def base_mp4() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.mp4"
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=24:duration=1",
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(out)],
            check=True, timeout=60,
        )
        return out.read_bytes()


class Vendor:
    def __init__(self, render_seconds: float) -> None:
        self.render_seconds = render_seconds
        self.jobs: dict[str, float] = {}
        self.lock = threading.Lock()
        self.polls = 0
        self.mp4 = base_mp4()
        self.ids = itertools.count(1)

    def output(self, job_id: str) -> bytes:
        # A distinct file per job (a trailing 'free' box naming it), so each result is stored on its own.
        tag = job_id.encode().ljust(24, b"_")[:24]
        return self.mp4 + struct.pack(">I4s", 8 + len(tag), b"free") + tag


def make_handler(vendor: Vendor, base_url_holder: list[str]):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: with Nagle on, a keep-alive client waits for the
        # body behind its own delayed ACK (~40 ms a request), which a real vendor's server avoids.
        disable_nagle_algorithm = True

        def log_message(self, *args):  # quiet
            pass

        def _json(self, status: int, body: dict) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            job_id = f"j{next(vendor.ids)}-{uuid.uuid4().hex[:8]}"
            with vendor.lock:
                vendor.jobs[job_id] = time.monotonic()
            self._json(200, {"id": job_id})

        def do_GET(self):
            path = urlsplit(self.path).path
            if path.startswith("/files/"):
                job_id = path.rsplit("/", 1)[-1].removesuffix(".mp4")
                raw = vendor.output(job_id)
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
                return
            job_id = path.rsplit("/", 1)[-1]
            with vendor.lock:
                vendor.polls += 1
                started = vendor.jobs.get(job_id)
            if started is None:
                self._json(404, {"error": "no such job"})
                return
            elapsed = time.monotonic() - started
            if elapsed >= vendor.render_seconds:
                self._json(200, {"state": "succeeded", "url": f"{base_url_holder[0]}/files/{job_id}.mp4"})
            else:
                self._json(200, {"state": "running", "percent": int(100 * elapsed / vendor.render_seconds)})

    return Handler


# ---------------------------------------------------------------------------- CPU accounting


def proc_cpu(pid: int) -> float:
    """utime + stime of one process, plus its waited-for children (seconds)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return (utime + stime + cutime + cstime) / CLK


def tree(pid: int) -> list[int]:
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out.extend(tree(int(child)))
    return out


def tree_cpu(pid: int) -> float:
    return sum(proc_cpu(p) for p in tree(pid))


def postgres_cpu() -> float:
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += proc_cpu(int(entry.name))
            except OSError:
                continue
    return total


# ---------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--render-seconds", type=float, default=120.0)
    parser.add_argument("--poll-interval", type=float, default=5.0)
    parser.add_argument("--previews", action="store_true", help="make thumbnails of every result (media work, not orchestration)")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "")
    var_dir = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    if not database_url:
        print("DATABASE_URL is not set: using SQLite (expect lock waits; PostgreSQL is what production uses).")
    elif database_url.startswith("postgres"):
        import psycopg

        parts = urlsplit(database_url)
        name = parts.path.lstrip("/")
        admin = database_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')

    redis_port = free_port()
    redis = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    wait_port(redis_port)

    vendor = Vendor(args.render_seconds)
    holder = [""]
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(vendor, holder))
    server.daemon_threads = True
    holder[0] = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench._jobs_in_flight_settings",
        "MEDIASTUDIO_VAR_DIR": str(var_dir),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CHANNELS_PREFIX": f"bench{redis_port}",
        "Q_WORKERS": "2",
        "DB_CONN_MAX_AGE": "60",  # as the worker in compose.yaml
        "BENCH_FAKE_URL": holder[0],
        "BENCH_POLL_INTERVAL": str(args.poll_interval),
        "BENCH_PREVIEWS": "1" if args.previews else "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "MEDIASTUDIO_VAR_DIR", "REDIS_URL", "CHANNELS_PREFIX",
                                           "BENCH_FAKE_URL", "BENCH_POLL_INTERVAL", "BENCH_PREVIEWS", "LOG_LEVEL")})
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)

    import django

    django.setup()
    from decimal import Decimal

    from django.db.models import Count

    from campaigns.models import Campaign, Workspace
    from generation.models import VideoAttempt
    from generation.services import video_generation_create
    from mediastudio.jobs.models import Job

    workspace = Workspace.objects.create(name="Bench", slug=f"bench-{uuid.uuid4().hex[:6]}")
    campaign = Campaign.objects.create(workspace=workspace, name="Bench", budget=Decimal("100000"))

    log = open(var_dir / "qcluster.log", "wb")
    cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    time.sleep(4)  # workers up
    workers_cpu0 = tree_cpu(cluster.pid)
    pg_cpu0 = postgres_cpu()
    driver_cpu0 = time.process_time()

    t0 = time.monotonic()
    for i in range(args.jobs):
        video_generation_create(workspace=workspace, campaign=campaign, prompt=f"Bench shot {i}", tier="standard",
                                duration=4, resolution="720p", aspect_ratio="16:9")
    submitted_in = time.monotonic() - t0
    driver_cpu = time.process_time() - driver_cpu0

    samples = []
    peak = 0
    first_done = last_done = None
    deadline = t0 + args.timeout
    while time.monotonic() < deadline:
        now = time.monotonic() - t0
        in_flight = VideoAttempt.objects.filter(status__in=VideoAttempt.ACTIVE).count()
        done = Job.objects.filter(campaign=campaign, status__in=("succeeded", "failed", "canceled")).count()
        peak = max(peak, in_flight)
        samples.append((round(now, 1), in_flight, done))
        if done and first_done is None:
            first_done = now
        if done >= args.jobs:
            last_done = now
            break
        time.sleep(1.0)
    workers_cpu = tree_cpu(cluster.pid) - workers_cpu0
    pg_cpu = postgres_cpu() - pg_cpu0

    statuses = dict(Job.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id")))
    lag = []
    for row in VideoAttempt.objects.filter(generation__campaign=campaign, status="succeeded").values(
        "started_at", "finished_at"
    ):
        lag.append((row["finished_at"] - row["started_at"]).total_seconds() - args.render_seconds)
    lag.sort()
    campaign.refresh_from_db()

    os.killpg(cluster.pid, 15)
    try:
        cluster.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(cluster.pid, 9)
    redis.terminate()
    server.shutdown()

    result = {
        "jobs": args.jobs,
        "render_seconds": args.render_seconds,
        "poll_interval": args.poll_interval,
        "previews": args.previews,
        "database": "postgresql" if database_url.startswith("postgres") else "sqlite",
        "workers": 2,
        "submit_seconds_for_all": round(submitted_in, 1),
        "peak_in_flight": peak,
        "statuses": statuses,
        "first_finished_after_s": None if first_done is None else round(first_done, 1),
        "all_finished_after_s": None if last_done is None else round(last_done, 1),
        "finish_lag_beyond_render_s": {"p50": round(lag[len(lag) // 2], 2), "p95": round(lag[int(len(lag) * 0.95)], 2),
                                       "max": round(lag[-1], 2)} if lag else None,
        "vendor_polls": vendor.polls,
        "polls_per_job": round(vendor.polls / max(1, args.jobs), 1),
        "worker_cpu_seconds": round(workers_cpu, 1),
        "worker_cpu_ms_per_job": round(1000 * workers_cpu / args.jobs, 1),
        "postgres_cpu_ms_per_job": round(1000 * pg_cpu / args.jobs, 1) if database_url.startswith("postgres") else None,
        "submit_side_cpu_ms_per_job": round(1000 * driver_cpu / args.jobs, 1),
        "campaign_spent": str(campaign.spent),
        "campaign_reserved": str(campaign.reserved),
        "samples_every_s": samples[:: max(1, len(samples) // 40)],
        "cpus": os.cpu_count(),
    }
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "jobs_in_flight.json").write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps({k: v for k, v in result.items() if k != "samples_every_s"}, indent=2, default=str))
    if last_done is None:
        print(f"NOT ALL FINISHED within {args.timeout:g} s; see {var_dir / 'qcluster.log'}")
        sys.exit(1)


if __name__ == "__main__":
    main()
