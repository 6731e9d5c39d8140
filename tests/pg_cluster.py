"""A throwaway PostgreSQL cluster for tests and benchmarks: initdb + pg_ctl, Unix socket only, in a temp folder.

initdb refuses to run as root (CI runs as root), so as root the server is run
as the ``postgres`` system user that Debian's package creates, with
``runuser -u postgres --``; the cluster folder is made in /tmp (not under
pytest's 0700 tmp folders, which that user cannot enter) and handed to it.
Otherwise it runs as the current user. No TCP port is opened
(``listen_addresses=''``); clients connect with
``postgresql:///DB?host=<socket dir>&user=postgres`` and trust authentication
(only this machine's users can reach the socket folder).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"


def find_pg_bindir() -> Path | None:
    """$SENSORAPP_PG_BIN, else the newest /usr/lib/postgresql/<N>/bin, else initdb on PATH."""
    override = os.environ.get("SENSORAPP_PG_BIN")
    if override:
        return Path(override)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if candidates:
        return Path(candidates[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


@dataclass
class PgCluster:
    root: Path
    bindir: Path
    run_as: list[str]  # the command prefix that runs a server tool as its owner

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def url(self, dbname: str, *, user: str = SUPERUSER, password: str | None = None) -> str:
        auth = user if password is None else f"{user}:{password}"
        return f"postgresql://{auth}@/{dbname}?host={self.socket_dir}"

    def psql_exec(self, sql: str, dbname: str = "postgres") -> None:
        """One statement as the superuser (psycopg, autocommit: CREATE DATABASE cannot run in a transaction)."""
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[call-overload]

    def create_database(self, name: str, *, template: str | None = None) -> str:
        clause = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        self.psql_exec(f'CREATE DATABASE "{name}"{clause}')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "-w", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster(*, durable: bool = False) -> PgCluster:
    """Start a new cluster; raises RuntimeError saying why it could not (no binaries, initdb or pg_ctl failed).

    ``durable=False`` (tests) turns fsync off: the tests kill clients, never
    the server. Benchmarks pass ``durable=True`` to compare with SQLite's
    ``synchronous=FULL`` on equal terms.
    """
    bindir = find_pg_bindir()
    if bindir is None or not (bindir / "initdb").exists():
        raise RuntimeError("no PostgreSQL server binaries (initdb): install Debian's postgresql package (.ci/run does)")
    root = Path(tempfile.mkdtemp(prefix="sensorapp-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(SUPERUSER)
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError("running as root and there is no 'postgres' user to run the server as") from None
        os.chown(root, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", SUPERUSER, "--"]
    (root / "socket").mkdir()
    if run_as:
        os.chown(root / "socket", owner.pw_uid, owner.pw_gid)
    cluster = PgCluster(root, bindir, run_as)
    init = subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(root / "data"), "-U", SUPERUSER, "--auth=trust",
         "-E", "UTF8", "--locale=C", "--no-sync"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {(init.stderr or init.stdout).strip()[-300:]}")
    options = f"-c listen_addresses='' -k {root / 'socket'} -c max_connections=60"
    if not durable:
        options += " -c fsync=off -c full_page_writes=off"
    start = subprocess.run(
        [*run_as, str(bindir / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "server.log"), "-o", options,
         "-w", "-t", "60", "start"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if start.returncode != 0:
        log = (root / "server.log").read_text(errors="replace")[-300:] if (root / "server.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"pg_ctl start failed: {(start.stderr or start.stdout).strip()[-200:]} {log}")
    return cluster
