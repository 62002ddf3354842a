"""deploy/app.sh and deploy/stack.sh with stand-in programs (no real services): daemons detach, no start-up race."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script(path: Path, body: str) -> None:
    path.write_text("#!/usr/bin/env bash\n" + textwrap.dedent(body))
    path.chmod(0o755)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill_pidfile(pidfile: Path) -> None:
    if pidfile.is_file() and pidfile.read_text().strip():
        try:
            os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Path]:
    state = tmp_path / "state"
    yield state
    for pidfile in (state / "run").glob("*.pid"):
        _kill_pidfile(pidfile)


def test_app_start_detaches_so_a_pipe_reader_sees_the_end(tmp_path: Path, state: Path) -> None:
    """`make up | tail` returned only when the daemons exited: a shell kept the pipe open behind them."""
    fake = tmp_path / "bin"
    fake.mkdir()
    _script(fake / "aiff", 'echo "workers running"\nexec sleep 300\n')
    _script(fake / "python", "exit 1\n")  # no API module: app.sh starts the workers only
    env = {**os.environ, "AIFF_BIN": str(fake), "AIFF_STATE_DIR": str(state), "AIFF_WORKER_METRICS_PORT": "0",
           "AIFF_LIVE_WORKERS": "", "AIFF_ENGINE_WORKERS": "", "AIFF_INSIGHT_WORKERS": ""}  # fmt: skip
    pipeline = subprocess.Popen(["bash", "-c", f"bash {ROOT}/deploy/app.sh start | cat"], stdout=subprocess.PIPE, env=env, text=True)
    try:
        out, _ = pipeline.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        _kill_pidfile(state / "run" / "worker.pid")
        pipeline.kill()
        pipeline.wait()
        pytest.fail("deploy/app.sh start | cat did not finish while the worker ran: a daemon holds the pipe")
    assert pipeline.returncode == 0 and "worker: ready" in out
    pid = int((state / "run" / "worker.pid").read_text())
    os.kill(pid, 0)  # the worker still runs after the pipeline ended
    assert (state / "logs" / "worker.log").read_text().startswith("workers running")
    subprocess.run(["bash", str(ROOT / "deploy" / "app.sh"), "stop"], env=env, check=True, capture_output=True, timeout=30)


def test_stack_up_kafka_waits_for_the_broker_it_started(tmp_path: Path, state: Path) -> None:
    """`stack.sh up kafka` exited 1 when it looked the broker up by command line before `java` was exec'd."""
    fake = tmp_path / "bin"
    fake.mkdir()
    # A slow start: for a second after the fork the broker's process is still the script's subshell, whose
    # command line does not name kafka.Kafka yet (an exported bash function runs before the real setsid).
    slow_setsid = '() { sleep 1; exec setsid "$@"; }'
    _script(fake / "java", """\
        case " $* " in
          *" kafka.Kafka "*) exec python3 -c 'import os, signal, socket
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(os.environ["AIFF_KAFKA_PORT"]))); s.listen(16); signal.pause()' kafka.Kafka ;;
          *" --list "*) echo _aiff_readiness ;;
        esac
        """)  # fmt: skip
    cache = tmp_path / "cache"
    kafka_home = cache / "kafka-3.9.1"
    (kafka_home / "libs").mkdir(parents=True)
    (kafka_home / ".resolved").write_text(hashlib.sha256((ROOT / "deploy/kafka/pom.xml").read_bytes()).hexdigest() + "\n")
    (state / "kafka" / "data").mkdir(parents=True)
    (state / "kafka" / "data" / "meta.properties").write_text("formatted by the test\n")
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "AIFF_STATE_DIR": str(state), "AIFF_CACHE_DIR": str(cache),
           "AIFF_KAFKA_PORT": str(_free_port()), "AIFF_KAFKA_CONTROLLER_PORT": str(_free_port()),
           "BASH_FUNC_setsid%%": slow_setsid}  # fmt: skip
    try:
        up = subprocess.run(["bash", str(ROOT / "deploy/stack.sh"), "up", "kafka"], env=env, capture_output=True, text=True, timeout=90)
        assert up.returncode == 0, up.stdout + up.stderr
        assert "kafka: ready on 127.0.0.1:" in up.stdout
    finally:
        pidfile = state / "run" / "kafka.pid"
        started = pidfile.read_text() if pidfile.is_file() else ""
        subprocess.run(["bash", str(ROOT / "deploy/stack.sh"), "down", "kafka"], env=env, capture_output=True, timeout=90)
        pidfile.write_text(started)
        _kill_pidfile(pidfile)  # when `down` could not tell it was the broker
