"""Proof that our files survive kills and races: never corrupt, no temp file left, nothing lost.

Writers are forked by tests/files_worker.py (a fresh process per writer, without
an interpreter's start-up each time), killed with SIGKILL, SIGTERM and SIGHUP at
varied moments, or run side by side on the same files.
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

import files_worker
import vss_shell
from batch_helpers import requests_made, run_vss, vss_env
from vss_shell.api.token import Token
from vss_shell.emulator import Emulator
from vss_shell.savefile import problem

WORKER = Path(__file__).with_name("files_worker.py")

#: Rounds per signal (each: fork, at least one full write of both files, kill).
ROUNDS = 30

#: What the rounds saw, for the README's Reliability table (printed with ``-s``).
FIGURES: dict[str, int] = {}


class Worker:
    """tests/files_worker.py on a folder, spoken to line by line (every read bounded)."""

    def __init__(self, folder: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(Path(vss_shell.__file__).parents[1]))
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(folder)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put("EOF")

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def read(self, timeout: float = 30) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"worker silent for {timeout} s") from None
        assert line != "EOF", self.proc.stderr.read() if self.proc.stderr else ""
        return line

    def exit_status(self, timeout: float = 30) -> list[int]:
        word, *statuses = self.read(timeout).split()
        assert word == "exit"
        return [int(s) for s in statuses]

    def close(self) -> str:
        assert self.proc.stdin is not None and self.proc.stderr is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        return self.proc.stderr.read()


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Worker]:
    w = Worker(tmp_path)
    try:
        yield w
    finally:
        errors = w.close()
        assert "Traceback" not in errors


def temp_files(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


def check_whole(folder: Path) -> None:
    """Both files parse and hold what a writer wrote whole."""
    doc = json.loads((folder / "plain.json").read_text())
    assert len(doc["pad"]) == files_worker.PAD and doc["n"] == doc["end"]
    cache = tomllib.loads((folder / "tokens.toml").read_text())
    users = cache["tokens"][files_worker.EP]
    assert users
    for raw in users.values():
        Token.parse(raw)


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP],
                         ids=["SIGKILL", "SIGTERM", "SIGHUP"])
def test_kill_rounds_leave_whole_files_and_no_temp_file(worker: Worker, tmp_path: Path,
                                                        signum: int) -> None:
    rng = random.Random(signum)
    left_by_kill = 0
    for round_ in range(ROUNDS):
        worker.send(f"loop {round_}")
        said = dict((worker.read() + " -").split()[:2] for _ in range(2))  # either order
        assert said.keys() == {"pid", "ready"}, said
        time.sleep(rng.uniform(0, 0.02))  # a varied moment: mid-write or between writes
        os.kill(int(said["pid"]), signum)
        assert worker.exit_status() == [-signum]  # the conventional status: killed by it
        check_whole(tmp_path)
        leftovers = temp_files(tmp_path)
        if signum == signal.SIGKILL:
            left_by_kill += bool(leftovers)
            worker.send("once")  # the next run removes what the killed one left
            assert worker.exit_status() == [0]
            check_whole(tmp_path)
            assert temp_files(tmp_path) == []
        else:
            assert leftovers == [], f"round {round_}"
    FIGURES[f"{signal.Signals(signum).name} rounds"] = ROUNDS
    if signum == signal.SIGKILL:
        FIGURES["SIGKILL rounds that left a temp file (removed by the next write)"] = left_by_kill
    print(FIGURES)


#: Concurrent writers: processes, token puts and profile adds each (all on the same files).
PROCS, PUTS, PROFILES = 4, 25, 8


def test_concurrent_writers_lose_no_update(worker: Worker, tmp_path: Path) -> None:
    worker.send(f"race {PROCS} {PUTS} {PROFILES}")
    assert worker.exit_status(timeout=60) == [0] * PROCS
    users = tomllib.loads((tmp_path / "tokens.toml").read_text())["tokens"][files_worker.EP]
    assert set(users) == {f"w{i}-{j}" for i in range(PROCS) for j in range(PUTS)}
    for user, raw in users.items():
        assert Token.parse(raw).username == user
    profiles = tomllib.loads((tmp_path / "profiles.toml").read_text())["profiles"]
    ours = {name: table for name, table in profiles.items() if name.startswith("w")}
    assert set(ours) == {f"w{i}-{j}" for i in range(PROCS) for j in range(PROFILES)}
    assert all(table["username"] == f"u{name[1:].split('-')[0]}" for name, table in ours.items())
    assert temp_files(tmp_path) == []
    FIGURES["concurrent writers"] = PROCS
    FIGURES["token puts (zero lost)"] = PROCS * PUTS
    FIGURES["profile adds (zero lost)"] = PROCS * PROFILES
    print(FIGURES)


HANDLERS = """
import signal, sys, threading
from vss_shell import files

folder = sys.argv[1]
def state():
    return [signal.getsignal(s) is files._on_signal for s in (signal.SIGTERM, signal.SIGHUP)]

t = threading.Thread(target=files.atomic_write, args=(folder + "/a", "x"))
t.start(); t.join()
print(state())                                   # a thread installs nothing
signal.signal(signal.SIGHUP, signal.SIG_IGN)     # someone's choice: kept
files.atomic_write(folder + "/b", "x")
print(state(), signal.getsignal(signal.SIGHUP) is signal.SIG_IGN)
"""


def test_handlers_only_from_the_main_thread_and_only_over_the_default(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", HANDLERS, str(tmp_path)], capture_output=True,
                          text=True, timeout=30,
                          env=dict(os.environ, PYTHONPATH=str(Path(vss_shell.__file__).parents[1])))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[False, False]", "[True, False] True"]


# --- mfa mk checks its files before the server enrols -------------------------------------------


def test_problem_names_a_file_where_a_directory_should_be(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("")
    for path in (tmp_path / "notes" / "codes.txt", tmp_path / "notes" / "sub" / "codes.txt"):
        assert problem(str(path), may_overwrite=True) == f"{tmp_path / 'notes'} is not a directory"


def test_problem_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "codes.txt"
    os.mkfifo(fifo)
    assert problem(str(fifo), may_overwrite=True) == f"{fifo} is not a regular file"


def test_problem_refuses_a_read_only_file_even_with_yes(tmp_path: Path) -> None:
    target = tmp_path / "codes.txt"
    target.write_text("old")
    target.chmod(0o444)
    assert problem(str(target), may_overwrite=True) == f"{target} is read-only; not replacing it"
    assert problem(str(target), may_overwrite=False) == f"{target} is read-only; not replacing it"


def problem_as_nobody(path: Path) -> str | None:
    """``problem(path)`` as an unprivileged user (root may write anywhere): uid 65534
    in a forked child when we are root."""
    if os.geteuid() != 0:
        return problem(str(path), may_overwrite=True)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # only os calls here, then out
        try:
            os.setuid(65534)
            os.write(write, json.dumps(problem(str(path), may_overwrite=True)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        said = answer.read()
    os.waitpid(pid, 0)
    return json.loads(said)


def test_problem_refuses_a_directory_that_is_not_writable() -> None:
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="vss-files-"))  # under /tmp: searchable by all
    try:
        base.chmod(0o755)
        locked_dir = base / "ro"
        locked_dir.mkdir(mode=0o555)
        locked_dir.chmod(0o555)
        assert problem_as_nobody(locked_dir / "codes.txt") == \
            f"directory {locked_dir} is not writable"
    finally:
        (base / "ro").chmod(0o755)
        shutil.rmtree(base)


@pytest.mark.parametrize("case", ["not a directory", "read-only"])
def test_mfa_mk_fails_before_enrolment(emulator: Emulator, tmp_path: Path, case: str) -> None:
    (tmp_path / "notes").write_text("")
    (tmp_path / "q.png").write_text("keep me\n")
    (tmp_path / "q.png").chmod(0o444)
    option, expected = {
        "not a directory": ("--save-codes notes/codes.txt",
                            f"--save-codes: {tmp_path / 'notes'} is not a directory"),
        "read-only": ("--qr-file q.png --yes", "--qr-file: q.png is read-only; not replacing it"),
    }[case]
    r = run_vss("-o", "json", "-c", f"mfa mk AUTHENTICATOR --no-verify {option}",
                env=vss_env(tmp_path, emulator), cwd=tmp_path)
    assert r.returncode == 1, str(r)
    assert r.stderr.strip().splitlines() == [f"-c:1: {expected}"], str(r)
    assert requests_made(emulator, "POST /tf/enable") == 0
    assert (tmp_path / "q.png").read_text() == "keep me\n"


MIDWRITE = """
import os, sys
from vss_shell import files

def stall(fd):  # the temp file exists and is half done: wait here to be killed
    os.write(1, b"stalled\\n")
    os.read(0, 1)

os.fsync = stall
files.atomic_write(sys.argv[1] + "/tokens.toml", "bearer secret")
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_mid_write_removes_the_temp_file(tmp_path: Path, signum: int) -> None:
    """Deterministic: killed while its temp file exists (the rounds above hit it by chance)."""
    import select

    proc = subprocess.Popen(
        [sys.executable, "-c", MIDWRITE, str(tmp_path)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, env=dict(os.environ,
                                         PYTHONPATH=str(Path(vss_shell.__file__).parents[1])))
    try:
        assert proc.stdout is not None
        assert select.select([proc.stdout], [], [], 30)[0], "the writer never stalled"
        assert proc.stdout.readline() == b"stalled\n"
        [temp] = temp_files(tmp_path)
        assert temp.startswith(f".tokens.toml.{proc.pid}.")  # its owner is known
        proc.send_signal(signum)
        assert proc.wait(timeout=30) == -signum
    finally:
        proc.kill()
        proc.wait()
    assert os.listdir(tmp_path) == []
