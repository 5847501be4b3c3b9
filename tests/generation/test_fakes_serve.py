"""`python -m tests.fakes.serve`, the README's way to try the remote providers without keys."""

import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def serve_once(env_file: Path, *extra: str) -> str:
    """Start the fakes, wait until they have written their env file, stop them; the file's text."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.serve", "--env-file", str(env_file), *extra], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("wrote "):
                return env_file.read_text()
        raise AssertionError("the fakes exited before writing their env file")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def test_it_keeps_the_ports_of_its_env_file_when_restarted(tmp_path):
    # The README's "add --fail runway to see fallback" restarts the fakes under a studio that read
    # their URLs at start-up: fakes on new ports made every provider fail with "connection refused".
    env_file = tmp_path / "fakes.env"
    first = serve_once(env_file)
    again = serve_once(env_file, "--fail", "runway")

    assert "RUNWAY_BASE_URL=http://127.0.0.1:" in first
    assert again == first
