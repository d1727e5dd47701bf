"""A throwaway PostgreSQL and server processes in cluster mode on it (PROTOCOL.md §7), shared by
bench/cluster/run.py (Python load generator) and bench/native/cluster.py (sig-loadgen).

    pg = Postgres()                       # scripts/test-postgres.sh: fresh cluster, fsync off
    url = pg.new_schema()                 # an empty schema: a cluster of its own
    a, b = Process(url), Process(url)     # ours on free ports, cluster env, ready (/readyz)
    ...
    a.stop(); b.stop(); pg.stop()
"""
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from pathlib import Path

from common import OURS_BIN, OURS_LIMITS_OFF, ROOT, SECRET_KEY, free_port, wait_serving

TEST_POSTGRES = ROOT / "scripts" / "test-postgres.sh"


def _cpu_seconds(pid, children=False):
    """utime + stime of `pid` (and with children=True, of its children it has waited for)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


class Postgres:
    def __init__(self):
        self.state = Path(tempfile.mkdtemp(prefix="bench-postgres-"))
        subprocess.run([str(TEST_POSTGRES), "start", str(self.state)], check=True)
        self.url = (self.state / "url").read_text().strip()

    def new_schema(self):
        schema = "bench_" + uuid.uuid4().hex[:10]
        subprocess.run(["psql", self.url, "-qc", f"CREATE SCHEMA {schema}"], check=True)
        return f"{self.url}?options=-csearch_path%3D{schema}"

    def backends_cpu_seconds(self):
        """CPU seconds of every PostgreSQL process so far."""
        total = 0.0
        for pid in subprocess.run(["pgrep", "-f", f"postgres.*{self.state.name}|postgres: "],
                                  capture_output=True, text=True).stdout.split():
            try:
                fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except OSError:
                pass
        return total

    def postmaster_pid(self):
        datadir = Path((self.state / "datadir").read_text().strip()) / "data"
        return int((datadir / "postmaster.pid").read_text().split()[0])

    def cpu_seconds(self):
        """CPU seconds of this PostgreSQL server only (backends_cpu_seconds counts every PostgreSQL
        of the machine): the postmaster, the children it has reaped (closed backends) and its live
        children."""
        master = self.postmaster_pid()
        total = _cpu_seconds(master, children=True)
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
                if int(stat[1]) == master:
                    total += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
            except OSError:
                pass
        return total

    def version(self):
        return subprocess.run(["psql", self.url, "-tAc", "SHOW server_version"], capture_output=True,
                              text=True).stdout.strip()

    def stop(self):
        subprocess.run([str(TEST_POSTGRES), "stop", str(self.state)], check=False)
        shutil.rmtree(self.state, ignore_errors=True)


class Process:
    """One server process. `binary` defaults to common.OURS_BIN; `env` is added to the cluster env
    (abuse limits off, cheap hashing, LOG_LEVEL=warn)."""

    def __init__(self, database_url, env=None, binary=None):
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
        e = dict(os.environ, HOST="127.0.0.1", PORT=str(self.port), SECRET_KEY=SECRET_KEY,
                 DATABASE_URL=database_url, PASSWORD_HASH_MEMORY_KIB="8", PASSWORD_HASH_ITERATIONS="1",
                 LOG_LEVEL="warn")
        e.update(OURS_LIMITS_OFF)  # the whole load comes from one address and one machine: limits off
        e.update(env or {})
        self.log = open(self.dir / "server.log", "wb")
        self.proc = subprocess.Popen([str(Path(binary or OURS_BIN).resolve())], env=e, stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        self.pid = self.proc.pid
        wait_serving(self.url + "/readyz", self.proc, f"server did not start, see {self.dir}/server.log")

    def cpu_seconds(self):
        return _cpu_seconds(self.proc.pid)

    def log_text(self):
        """What the process has logged so far."""
        self.log.flush()
        try:
            return (self.dir / "server.log").read_text(errors="replace")
        except OSError:
            return ""

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
