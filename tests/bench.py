"""``make bench``: how fast the prompt appears, and what a piped run costs.

Measures, against the project's emulator on 127.0.0.1 only:
- time to the interactive prompt (``vss --demo`` in a pseudo-terminal),
- a one-command piped run (``vss -c help``): process start to exit,
- 200 ``mfa status`` lines in one piped run: seconds, token requests, connections,
- which costly modules a bare ``vss -c help`` imports (should be none).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

RUNS = 5


def _env(home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VSS_", "XDG_"))}
    env.update(HOME=home, XDG_CONFIG_HOME=f"{home}/.config", XDG_STATE_HOME=f"{home}/.state",
               TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    return env


def time_to_prompt(home: str) -> list[float]:
    import pexpect

    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        child = pexpect.spawn(sys.executable, ["-m", "vss_shell", "--demo"], env=_env(home),
                              encoding="utf-8", timeout=20, dimensions=(30, 100))
        child.expect(r"vss \(demo\) >")
        times.append(time.perf_counter() - start)
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
        child.close()
    return times


def one_command(home: str) -> list[float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vss_shell", "-c", "help"], env=_env(home),
                       capture_output=True, check=True, timeout=30)
        times.append(time.perf_counter() - start)
    return times


def heavy_imports(home: str) -> list[str]:
    code = ("import sys, vss_shell.cli as c; c.main(['-c', 'help']);"
            "print(' '.join(m for m in ('requests', 'qrcode', 'pyotp', 'pygments.lexers',"
            " 'prompt_toolkit') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], env=_env(home), capture_output=True,
                          text=True, check=True, timeout=30)
    return done.stdout.split("\n")[-2].split()


def status_run(home: str, lines: int = 200) -> tuple[float, dict]:
    from conftest import ACCOUNTS
    from vss_shell.emulator import Emulator

    with Emulator(accounts=ACCOUNTS, log=None) as emu:
        env = _env(home) | {"VSS_ENDPOINT": emu.url, "VSS_USER": "demo",
                            "VSS_USER_PASS": ACCOUNTS["demo"]["password"]}
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vss_shell", "--no-token-cache"],
                       input="mfa status\n" * lines, env=env, capture_output=True, text=True,
                       check=True, timeout=120)
        return time.perf_counter() - start, emu.stats()


def main() -> int:
    def fmt(values: list[float]) -> str:
        return (f"median {statistics.median(values) * 1000:7.1f} ms   "
                f"min {min(values) * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms")

    with tempfile.TemporaryDirectory() as home:
        print(f"vss-shell benchmark ({RUNS} runs each, Python {sys.version.split()[0]})")
        print(f"  time to the prompt (vss --demo, pty)   {fmt(time_to_prompt(home))}")
        print(f"  vss -c help, start to exit              {fmt(one_command(home))}")
        heavy = heavy_imports(home)
        print(f"  costly modules imported by -c help:     {' '.join(heavy) or 'none'}")
        seconds, stats = status_run(home)
        requests = stats["requests"]
        print(f"  200 x mfa status, one piped run         {seconds:7.2f} s "
              f"({seconds / 200 * 1000:.1f} ms a command)")
        print(f"    token requests {requests.get('POST /auth/request-token', 0)}, "
              f"GET /v2/user {requests.get('GET /v2/user', 0)}, "
              f"TCP connections {stats['connections']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
