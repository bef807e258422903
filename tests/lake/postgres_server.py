"""A throwaway PostgreSQL server for the DuckLake tests: initdb in a temp folder, 127.0.0.1, a free port.

Used two ways:

* ``scripts/test`` runs ``python -m tests.lake.postgres_server start DIR`` (it prints the libpq connection
  string to export as ``TRIAD_TEST_PG``) and ``... stop DIR`` when the suite ends;
* ``tests/lake/conftest.py`` calls :func:`start` itself when ``TRIAD_TEST_PG`` is not set.

PostgreSQL refuses to run as root, so when we are root the server runs as the ``postgres`` system user
(Debian's package creates it) and the folder is handed to that user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

DATABASE = "triad_test"
ROLE = "triad"


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server binaries on this machine (or the server would not start)."""


def find_bindir() -> Path | None:
    """The folder of initdb/pg_ctl: $PG_BINDIR, else Debian's newest /usr/lib/postgresql/*/bin, else PATH."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as(user: str | None, argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run ``argv``, as ``user`` when we are root (setuid in the child: no sudo/su needed)."""
    preexec = None
    if user is not None:
        entry = pwd.getpwnam(user)

        def preexec() -> None:
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)

    return subprocess.run(argv, check=True, capture_output=True, text=True, preexec_fn=preexec, **kwargs)


def start(folder: str | os.PathLike[str]) -> str:
    """Start a server whose files live in ``folder``; return a libpq connection string (with password)."""
    bindir = find_bindir()
    if bindir is None or not (bindir / "pg_ctl").exists():
        raise PostgresUnavailableError(
            "PostgreSQL server binaries not found (Debian: apt-get install postgresql, or set PG_BINDIR)"
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    user = "postgres" if os.geteuid() == 0 else None
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir(exist_ok=True)
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        os.chown(sockets, entry.pw_uid, entry.pw_gid)
        folder.chmod(0o755)
    password = secrets.token_hex(12)
    pwfile = folder / "pwfile"
    pwfile.write_text(password + "\n")
    if user is not None:
        os.chown(pwfile, pwd.getpwnam(user).pw_uid, -1)
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    try:
        _run_as(
            user,
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=scram-sha-256",
             f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync"],
            env=env,
        )  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c max_connections=200"
        _run_as(
            user,
            [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-o", options, "-w",
             "-t", "60", "start"],
            env=env,
        )  # fmt: skip
    except subprocess.CalledProcessError as exc:
        raise PostgresUnavailableError(f"PostgreSQL would not start: {exc.stderr or exc.stdout}") from exc
    finally:
        pwfile.unlink(missing_ok=True)
    (folder / "port").write_text(str(port))
    psql_env = {**env, "PGPASSWORD": password}
    for sql in (
        f"CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{password}'",
        f"CREATE DATABASE {DATABASE} OWNER {ROLE}",
    ):
        subprocess.run(
            [str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres",
             "-v", "ON_ERROR_STOP=1", "-qc", sql],
            check=True, capture_output=True, text=True, env=psql_env,
        )  # fmt: skip
    return f"dbname={DATABASE} host=127.0.0.1 port={port} user={ROLE} password={password}"


def stop(folder: str | os.PathLike[str]) -> None:
    """Stop the server started in ``folder`` (fast shutdown) and leave its files for the caller to delete."""
    bindir = find_bindir()
    data = Path(folder) / "data"
    if bindir is None or not data.exists():
        return
    user = "postgres" if os.geteuid() == 0 else None
    with contextlib.suppress(subprocess.CalledProcessError):
        _run_as(user, [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python -m tests.lake.postgres_server start|stop FOLDER", file=sys.stderr)
        return 2
    if argv[0] == "start":
        try:
            print(start(argv[1]))
        except PostgresUnavailableError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        return 0
    stop(argv[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
