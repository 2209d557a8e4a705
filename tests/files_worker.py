"""A fork server for tests/test_files_trust.py: writers to kill, writers that race.

Run ``python tests/files_worker.py DIR``; it reads commands on stdin, one a line:

- ``loop SEED``: fork a writer that loops ``atomic_write`` of ``DIR/plain.json`` and
  ``TokenCache.put`` into ``DIR/tokens.toml``; prints ``pid N``, the writer prints
  ``ready`` after its first round; when it ends: ``exit STATUS`` (``-SIGNUM`` if killed).
- ``once``: fork a writer that writes each file once and exits (the next run).
- ``race PROCS PUTS PROFILES``: fork PROCS writers at once, each putting PUTS tokens
  for its own users and adding PROFILES profiles of its own to ``DIR/profiles.toml``;
  prints ``exit S1 S2 ...``.

The server itself never writes a file: each writer starts as a fresh process would
(no signal handler installed, default dispositions), without an interpreter's start-up.
"""

from __future__ import annotations

import base64
import json
import os
import random
import sys
import time
from pathlib import Path

from vss_shell import files
from vss_shell.profiles import ProfileStore
from vss_shell.tokencache import TokenCache

EP = "http://127.0.0.1:9"

#: The plain file's padding: big enough that a write is more than one block.
PAD = 20_000


def jwt(sub: str) -> str:
    """A token for ``sub`` valid for an hour (fake signature: the cache does not verify)."""
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    now = int(time.time())
    claims = {"sub": sub, "iat": now, "exp": now + 3600, "otp": True}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def plain(n: int) -> str:
    """The plain file's content for round ``n``: checkable whole (length and both ends)."""
    return json.dumps({"n": n, "pad": "x" * PAD, "end": n})


def say(text: str) -> None:
    os.write(1, f"{text}\n".encode())


def loop(folder: Path, seed: int) -> None:
    rng, cache = random.Random(seed), TokenCache(folder / "tokens.toml")
    n = 0
    while True:
        files.atomic_write(folder / "plain.json", plain(n))
        cache.put(EP, f"user{rng.randrange(8)}", jwt("x"))
        if n == 0:
            say("ready")
        n += 1


def once(folder: Path) -> None:
    files.atomic_write(folder / "plain.json", plain(-1))
    TokenCache(folder / "tokens.toml").put(EP, "once", jwt("once"))


def race(folder: Path, index: int, puts: int, profiles: int) -> None:
    cache, store = TokenCache(folder / "tokens.toml"), ProfileStore(folder / "profiles.toml")
    for j in range(max(puts, profiles)):
        if j < puts:
            cache.put(EP, f"w{index}-{j}", jwt(f"w{index}-{j}"))
        if j < profiles:
            store.add(f"w{index}-{j}", f"http://127.0.0.1:{1000 + j}", username=f"u{index}")


def child(work: object) -> int:
    """Fork; the child runs ``work()`` and exits (1 on an error, said on stderr)."""
    pid = os.fork()
    if pid == 0:
        status = 0
        try:
            work()  # type: ignore[operator]
        except BaseException as exc:
            os.write(2, f"writer {os.getpid()}: {type(exc).__name__}: {exc}\n".encode())
            status = 1
        os._exit(status)
    return pid


def status_of(pid: int) -> int:
    _, raw = os.waitpid(pid, 0)
    return -os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else os.WEXITSTATUS(raw)


def main() -> None:
    folder = Path(sys.argv[1])
    for line in sys.stdin:
        cmd, *args = line.split()
        if cmd == "loop":
            pid = child(lambda seed=int(args[0]): loop(folder, seed))
            say(f"pid {pid}")
            say(f"exit {status_of(pid)}")
        elif cmd == "once":
            say(f"exit {status_of(child(lambda: once(folder)))}")
        elif cmd == "race":
            procs, puts, profiles = map(int, args)
            pids = [child(lambda i=i, n=puts, m=profiles: race(folder, i, n, m))
                    for i in range(procs)]
            say("exit " + " ".join(str(status_of(pid)) for pid in pids))


if __name__ == "__main__":
    main()
