"""``make bench``: vss-shell side by side with its floors, on a noisy machine.

Every figure is the median (with min and max) of several runs, each paired with
its floor measured in the same round, A and B alternating, so ratios hold when
the machine is busy. Traffic goes only to 127.0.0.1 (an emulator started here).
One table on stdout; the same figures in ``bench/results.json``.

1. time to the first prompt in a pseudo-terminal that answers cursor-position
   requests: ``vss`` on a profile pointed at the emulator (token cached) against
   a bare ``PromptSession().prompt()``, both ``python`` started the same way;
   also ``vss --demo``;
2. per-command cost of a piped run, ``(T(N) - T(1)) / (N - 1)`` of ``mfa status``
   lines, with requests per command and connections per run from the
   emulator's counters; again with every answer delayed by 20 ms;
3. the first network command, ``vss -c "mfa status"`` against ``vss -c help``;
4. interactive latency: completion of every prefix of every command and the
   lexer (in-process), keystroke-to-echo and Enter-to-next-prompt (pty);
5. peak RSS at the prompt and after 1000 commands (pty);
6. ``vss-cli`` as a reference, when installed;
and ``-X importtime``: the costliest modules before the prompt and the first command.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import bench_imports  # noqa: E402
from bench_pty import Pty  # noqa: E402

PY = sys.executable
#: The prompts as drawn (prompt_toolkit moves the cursor over a trailing space).
PROMPT = b"vss (bench) >"
DEMO_PROMPT = b"vss (demo) >"
PASSWORD = "demo-password"  # the shipped emulator.toml's demo account
BARE = (
    "from prompt_toolkit import PromptSession\n"
    "s = PromptSession()\n"
    "while True:\n"
    "    try:\n"
    "        s.prompt('vss (bench) > ')\n"
    "    except EOFError:\n"
    "        break\n"
)
QUICK = os.environ.get("VSS_BENCH_QUICK") == "1"  # fewer rounds, to try the bench out
ROUNDS = 3 if QUICK else 25
NETWORK_ROUNDS = 3 if QUICK else 15
IMPORT_ROUNDS = 2 if QUICK else 5
PIPED_N = 200 if QUICK else 1000
DELAYED_N = 30 if QUICK else 100
PTY_COMMANDS = 200 if QUICK else 1000
PTY_ROUNDS = 2 if QUICK else 3

_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy


# -- figures ----------------------------------------------------------------------------

def stats(values: list[float]) -> dict[str, float]:
    """Median, min and max (and how many)."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def paired(name: str, a: list[float], b: list[float], unit: str, target: str = "",
           floor: str = "") -> dict[str, Any]:
    """A figure and its floor, with the ratio of each pair."""
    ratio = stats([x / y for x, y in zip(a, b, strict=True) if y])
    ratio["of_minima"] = min(a) / min(b)  # the least disturbed run of each
    return {"name": name, "unit": unit, "value": stats(a), "floor": stats(b), "floor_is": floor,
            "ratio": ratio, "target": target}


def single(name: str, a: list[float], unit: str, target: str = "") -> dict[str, Any]:
    return {"name": name, "unit": unit, "value": stats(a), "target": target}


# -- environment ------------------------------------------------------------------------

class Bench:
    """A throwaway HOME with a ``bench`` profile, and emulators on 127.0.0.1."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.emulators: list[subprocess.Popen[str]] = []
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("VSS_", "XDG_", "PROMPT_TOOLKIT_", "NO_COLOR"))}
        base.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"),
                    XDG_STATE_HOME=str(home / "state"), TERM="xterm", LANG="C.UTF-8",
                    LC_ALL="C.UTF-8")
        self.env = base
        self.url = self.start_emulator()
        self.slow_url = self.start_emulator(delay_ms=20)
        folder = home / "config" / "vss-shell"
        folder.mkdir(parents=True)
        (folder / "profiles.toml").write_text(
            f'default = "bench"\n\n[profiles.bench]\nendpoint = "{self.url}"\n'
            'username = "demo"\n\n[profiles.demo]\nendpoint = "http://127.0.0.1"\n'
            'username = "demo"\n', encoding="utf-8")
        for url in (self.url, self.slow_url):  # log in once: the token is cached
            done = self.vss(["--endpoint", url, "-c", "mfa status"],
                            extra={"VSS_USER_PASS": PASSWORD})
            if done.returncode != 0:
                raise SystemExit(f"bench: cannot log in to the emulator: {done.stderr.strip()}")

    def start_emulator(self, delay_ms: int = 0) -> str:
        proc = subprocess.Popen(
            [PY, "-m", "vss_shell.emulator", "--port", "0", "--delay-ms", str(delay_ms)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self.env, text=True)
        self.emulators.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("listening on http://127.0.0.1:"):
            raise SystemExit(f"bench: the emulator did not start: {line!r}")
        return line.split()[-1]

    def close(self) -> None:
        for proc in self.emulators:
            proc.terminate()
            proc.wait(timeout=10)

    def emu_stats(self, url: str, reset: bool = False) -> dict[str, Any]:
        request = urllib.request.Request(url + "/_emulator/stats",
                                         method="DELETE" if reset else "GET")
        with _HTTP.open(request, timeout=10) as reply:
            return json.load(reply)

    def vss(self, args: list[str], stdin: str = "", extra: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([PY, "-m", "vss_shell", *args], input=stdin, text=True,
                              capture_output=True, env=self.env | (extra or {}), timeout=300)

    def timed(self, argv: list[str], stdin: str = "") -> float:
        start = time.perf_counter()
        done = subprocess.run(argv, input=stdin, text=True, capture_output=True,
                              env=self.env, timeout=300)
        took = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"bench: {argv[2:]} failed: {done.stderr.strip()[-300:]}")
        return took

    def fresh_history(self) -> None:
        (self.home / "state" / "vss-shell" / "history").unlink(missing_ok=True)


# -- 1 and 5: the first prompt, and memory there ----------------------------------------

VSS = [PY, "-m", "vss_shell"]
BARE_ARGV = [PY, "-c", BARE]


def first_prompt(bench: Bench) -> tuple[list[dict], dict[str, list[float]]]:
    times: dict[str, list[float]] = {"vss": [], "bare": [], "demo": []}
    rss: dict[str, list[float]] = {"vss": [], "bare": []}
    kinds = (("vss", VSS, PROMPT), ("bare", BARE_ARGV, PROMPT),
             ("demo", [*VSS, "--demo"], DEMO_PROMPT))
    for _ in range(ROUNDS):
        for kind, argv, prompt in kinds:
            bench.fresh_history()
            pty = Pty(argv, bench.env)
            try:
                seen = pty.wait_for(prompt)
                times[kind].append((seen - pty.started) * 1000)
                if kind in rss:
                    pty.settle()
                    rss[kind].append(pty.peak_rss_kib() / 1024)
            finally:
                pty.close()
    figures = [
        paired("first prompt: vss (profile, token cached)", times["vss"], times["bare"], "ms",
               "<= 1.10x", "bare PromptSession().prompt()"),
        paired("first prompt: vss --demo", times["demo"], times["bare"], "ms", "",
               "bare PromptSession().prompt()"),
    ]
    return figures, rss


# -- 2: per command, piped --------------------------------------------------------------

def piped(bench: Bench, url: str, n: int, rounds: int, label: str, target: str) -> list[dict]:
    per: list[float] = []
    ones: list[float] = []
    requests: list[float] = []
    connections: list[float] = []
    argv = [*VSS, "--endpoint", url]
    for _ in range(rounds):
        bench.emu_stats(url, reset=True)
        big = bench.timed(argv, "mfa status\n" * n)
        counted = bench.emu_stats(url, reset=True)
        one = bench.timed(argv, "mfa status\n")
        per.append((big - one) / (n - 1) * 1000)
        ones.append(one * 1000)
        requests.append(sum(counted["requests"].values()) / n)
        connections.append(counted["connections"] - 1)  # less the one reading the counters
    figure = paired(f"piped, per command{label}: (T({n})-T(1))/{n - 1}", per, ones, "ms",
                    target, "T(1), a whole one-command run (no ratio)")
    del figure["ratio"]
    return [
        figure,
        single(f"  requests per command{label}", requests, ""),
        single(f"  connections per run{label}", connections, ""),
    ]


# -- 3: first network command -----------------------------------------------------------

def first_network(bench: Bench) -> list[dict]:
    net: list[float] = []
    help_: list[float] = []
    for _ in range(ROUNDS):
        net.append(bench.timed([*VSS, "-c", "mfa status"]) * 1000)
        help_.append(bench.timed([*VSS, "-c", "help"]) * 1000)
    return [paired('first network command, piped: vss -c "mfa status"', net, help_, "ms",
                   "", "vss -c help")]


#: A fast typist: the first key a quarter of a second after the prompt shows, then
#: one key every 50 ms (240 words a minute).
REACTION, KEY_GAP = 0.25, 0.05


def first_at_prompt(bench: Bench) -> list[dict]:
    """The first command typed at a fresh prompt, Enter to the next prompt: ``mfa
    status`` (the HTTP stack loaded while the person typed) against ``help``. The
    keys come at a fast typist's pace (:data:`REACTION`, :data:`KEY_GAP`)."""
    took: dict[str, list[float]] = {"mfa status": [], "help": []}
    for _ in range(NETWORK_ROUNDS):
        for line in took:
            bench.fresh_history()
            pty = Pty(VSS, bench.env)
            try:
                shown = pty.wait_for(PROMPT)
                pty.read_until(shown + REACTION)
                for char in line.encode():  # each key echoed, then the next one
                    mark = len(pty.out)
                    sent = pty.send(bytes([char]))
                    pty.wait_for(bytes([char]), mark)
                    pty.read_until(sent + KEY_GAP)
                pty.settle()
                mark = len(pty.out)
                sent = pty.send(b"\r")
                took[line].append((pty.wait_for(PROMPT, mark, after_cpr=True) - sent) * 1000)
            finally:
                pty.close()
    return [paired("first network command at the prompt: mfa status (typed, Enter to "
                   "next prompt)", took["mfa status"], took["help"], "ms", "<= 1.5x",
                   "help, typed the same way in a fresh shell")]


# -- 4 and 5: interactive latency and memory in the pty ---------------------------------

def session(bench: Bench, argv: list[str], commands: int) -> dict[str, list[float]]:
    """Keystrokes, Enter, and ``commands`` lines of ``mfa status`` in one pty session."""
    bench.fresh_history()
    pty = Pty(argv, bench.env)
    out: dict[str, list[float]] = {"echo": [], "first": [], "enter": []}
    try:
        pty.wait_for(PROMPT)
        pty.settle()
        for turn in range(8):
            for char in b"mfa status":
                if char == ord(" "):
                    pty.send(b" ")
                    pty.settle(0.01)
                    continue
                mark = len(pty.out)
                sent = pty.send(bytes([char]))
                out["echo"].append((pty.wait_for(bytes([char]), mark) - sent) * 1000)
            pty.settle()
            mark = len(pty.out)
            sent = pty.send(b"\r")
            took = (pty.wait_for(PROMPT, mark, after_cpr=True) - sent) * 1000
            out["enter" if turn else "first"].append(took)
            pty.settle()
        out["rss_first"] = [pty.peak_rss_kib() / 1024]
        out["line"] = []
        for _ in range(commands):
            mark = len(pty.out)
            sent = pty.send(b"mfa status\r")
            out["line"].append((pty.wait_for(PROMPT, mark, after_cpr=True) - sent) * 1000)
        pty.settle()
        out["rss"] = [pty.peak_rss_kib() / 1024]
    finally:
        pty.close()
    return out


def interactive(bench: Bench) -> tuple[list[dict], dict[str, list[float]]]:
    got: dict[str, dict[str, list[float]]] = {"vss": {}, "bare": {}}
    for _ in range(PTY_ROUNDS):
        for kind, argv in (("vss", VSS), ("bare", BARE_ARGV)):
            for key, values in session(bench, argv, PTY_COMMANDS).items():
                got[kind].setdefault(key, []).extend(values)
    vss, bare = got["vss"], got["bare"]
    figures = []
    for key, name in (("echo", "keystroke to echo (pty)"),
                      ("first", "first Enter to next prompt, mfa status (pty)"),
                      ("enter", "later Enter to next prompt, mfa status (pty)"),
                      ("line", "line sent at once to next prompt (pty)")):
        figures.append({"name": name, "unit": "ms", "target": "",
                        "floor_is": "bare prompt (its Enter runs nothing)",
                        "value": {"median": statistics.median(vss[key]), "min": min(vss[key]),
                                  "max": max(vss[key]), "p99": pct(vss[key], 0.99),
                                  "n": len(vss[key])},
                        "floor": {"median": statistics.median(bare[key]), "min": min(bare[key]),
                                  "max": max(bare[key]), "p99": pct(bare[key], 0.99),
                                  "n": len(bare[key])},
                        "ratio": {"median": statistics.median(vss[key])
                                  / statistics.median(bare[key])}})
    return figures, {"vss": vss["rss"], "bare": bare["rss"], "vss_first": vss["rss_first"],
                     "bare_first": bare["rss_first"]}


def in_process() -> list[dict]:
    """Completion of every prefix of every command line, and the lexer, with the real code."""
    from types import SimpleNamespace

    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from vss_shell.commands import table
    from vss_shell.completion import ShellCompleter
    from vss_shell.lexer import ShellLexer

    t = table()
    ctx = SimpleNamespace(store=SimpleNamespace(names=lambda: ["cloud-api", "vss-api", "bench"]),
                          demo=None, table=t)
    completer = ShellCompleter(t, lambda: ctx)
    lexer = ShellLexer(t)
    lines = []
    for command in t.commands():
        words = list(command.path)
        for arg in command.args:
            words.append(arg.name.upper() if not isinstance(arg.choices, (list, tuple))
                         else str(arg.choices[0]))
        for opt in command.all_opts:
            words.append(opt.spellings[0])
            if opt.metavar or opt.choices:
                words.append("x")
        lines.append(" ".join(words))
    prefixes = [line[:i] for line in lines for i in range(len(line) + 1)]
    event = CompleteEvent(completion_requested=True)
    for text in prefixes:  # warm up
        list(completer.get_completions(Document(text), event))
    def best(run: Callable[[], object]) -> float:
        """The fastest of five runs, in ms: the code's cost, not the scheduler's."""
        times = []
        for _ in range(5):
            start = time.perf_counter_ns()
            run()
            times.append(time.perf_counter_ns() - start)
        return min(times) / 1e6

    documents = [Document(text) for text in prefixes]
    completion = [best(lambda d=d: list(completer.get_completions(d, event)))
                  for d in documents]
    lexing = [best(lambda line=line: lexer.line_tokens(line)) for line in lines]

    def fig(name: str, values: list[float], target: str = "") -> dict:
        return {"name": name, "unit": "ms", "target": target,
                "value": {"median": statistics.median(values), "p99": pct(values, 0.99),
                          "min": min(values), "max": max(values), "n": len(values)}}

    return [fig(f"completion, {len(prefixes)} prefixes of {len(lines)} commands (best of 5)",
                completion,
                "p99 < 1 ms"),
            fig(f"lexer, per line ({len(lines)} lines, best of 5)", lexing)]


# -- 6: the reference -------------------------------------------------------------------

def reference(bench: Bench) -> tuple[list[dict], str]:
    cli = shutil.which("vss-cli")
    if cli is None:
        return [], "vss-cli is not installed: reference skipped (pip install vss-cli to add it)"
    env = {"VSS_ENDPOINT": bench.url, "VSS_USER": "demo", "VSS_USER_PASS": PASSWORD}
    line = os.environ.get("VSS_BENCH_REF_LINE", "account get")
    version: list[float] = []
    runs: list[float] = []
    try:
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([cli, "--version"], capture_output=True, env=bench.env, timeout=60,
                           check=True)
            version.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            subprocess.run([cli, "shell"], input=f"{line}\n" * 100, text=True,
                           capture_output=True, env=bench.env | env, timeout=300, check=True)
            runs.append((time.perf_counter() - start) * 1000)
    except (subprocess.SubprocessError, OSError) as exc:
        return [], f"vss-cli reference failed ({exc.__class__.__name__}): skipped"
    return [single("reference: vss-cli --version", version, "ms"),
            single(f"reference: vss-cli shell, 100 x {line!r}", runs, "ms")], ""


# -- instructions: the same comparisons, counted instead of timed -----------------------

#: Put on PYTHONPATH (as ``sitecustomize``) for a run that must end at its first render.
FIRST_RENDER_EXIT = """\
import importlib.abc, importlib.machinery, os, sys


class _ExitAfterFirstRender(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "prompt_toolkit.renderer":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run_module = spec.loader.exec_module

        def exec_module(module):
            run_module(module)
            render = module.Renderer.render

            def render_then_exit(self, *args, **kwargs):
                render(self, *args, **kwargs)
                self.output.flush()
                os._exit(0)

            module.Renderer.render = render_then_exit

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _ExitAfterFirstRender())
"""


def first_render_exit_hook(folder: Path) -> Path:
    """A folder holding :data:`FIRST_RENDER_EXIT` as ``sitecustomize`` (for PYTHONPATH)."""
    hook = folder / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(FIRST_RENDER_EXIT, encoding="utf-8")
    return hook


def instructions(bench: Bench) -> tuple[list[dict], str]:
    """CPU instructions (valgrind's callgrind) to the first render, vss against the
    bare prompt, and of ``-c "mfa status"`` against ``-c help``: the ratios of the
    timed figures without the machine's noise (user-space instructions only: no
    system calls, no cache misses). One run each; repeatable to about 0.1%."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return [], "valgrind is not installed: instruction counts skipped"
    with tempfile.TemporaryDirectory() as tmp:
        hook = first_render_exit_hook(Path(tmp))

        def count(argv: list[str], tty: bool) -> float:
            log = Path(tmp) / "callgrind.log"
            run = [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null",
                   f"--log-file={log}", *argv]
            env = bench.env | {"PYTHONHASHSEED": "0"}
            if tty:
                bench.fresh_history()
                pty = Pty(run, env | {"PYTHONPATH": str(hook)})
                try:
                    pty.proc.wait(timeout=300)
                finally:
                    pty.close()
            else:
                subprocess.run(run, capture_output=True, env=env, timeout=300, check=True)
            for line in log.read_text().splitlines():
                if "Collected :" in line:
                    return int(line.split(":")[-1]) / 1e6
            raise SystemExit(f"bench: no instruction count from valgrind for {argv[2:]}")

        bare = count(BARE_ARGV, tty=True)
        vss = count(VSS, tty=True)
        demo = count([*VSS, "--demo"], tty=True)
        helped = count([*VSS, "-c", "help"], tty=False)
        net = count([*VSS, "-c", "mfa status"], tty=False)
        requests_only = count([PY, "-c", "import sys; sys.modules['charset_normalizer'] = None;"
                               " import requests"], tty=False)  # as vss imports it
        nothing = count([PY, "-c", "pass"], tty=False)

    def fig(name: str, value: float, floor: float, floor_is: str, target: str = "") -> dict:
        one = {"median": value, "min": value, "max": value, "n": 1}
        low = {"median": floor, "min": floor, "max": floor, "n": 1}
        return {"name": name, "unit": "M instr", "value": one, "floor": low,
                "floor_is": floor_is, "ratio": {"median": value / floor}, "target": target}

    return [
        fig("first prompt, instructions: vss (profile, token cached)", vss, bare,
            "bare PromptSession().prompt(), to its first render", "<= 1.10x"),
        fig("first prompt, instructions: vss --demo", demo, bare,
            "bare PromptSession().prompt(), to its first render"),
        fig('first network command, instructions: vss -c "mfa status"', net, helped,
            "vss -c help"),
        fig("  of which python -c 'import requests' (less python -c pass)",
            requests_only - nothing, helped, "vss -c help: what importing requests alone "
            "adds to it, whatever the shell does"),
    ], ""


# -- imports ----------------------------------------------------------------------------

def import_costs(bench: Bench) -> dict[str, Any]:
    """``-X importtime`` up to the prompt (vss and bare) and through a first command.

    Each module's times are the median of ``IMPORT_ROUNDS`` runs (A and B alternating).
    """
    runs: dict[str, list[dict[str, bench_imports.Module]]] = {"vss": [], "bare": [],
                                                                "command": []}
    with tempfile.TemporaryDirectory() as tmp:
        hook = first_render_exit_hook(Path(tmp))

        def to_prompt(argv: list[str]) -> dict[str, bench_imports.Module]:
            """What is imported until the first render (the run ends there): not what
            the shell loads in the background once the prompt is drawn."""
            log = Path(tmp) / "importtime"
            with open(log, "wb") as err:
                bench.fresh_history()
                pty = Pty([argv[0], "-X", "importtime", *argv[1:]],
                          bench.env | {"PYTHONPATH": str(hook)}, stderr=err)
                try:
                    pty.proc.wait(timeout=60)
                finally:
                    pty.close()
            found = bench_imports.parse(log.read_bytes().decode("utf-8", "replace"))
            found.pop("sitecustomize", None)  # the hook itself, in both runs
            return found

        for _ in range(IMPORT_ROUNDS):
            runs["vss"].append(to_prompt(VSS))
            runs["bare"].append(to_prompt(BARE_ARGV))
            done = subprocess.run([PY, "-X", "importtime", "-m", "vss_shell", "-c",
                                   "mfa status"], capture_output=True, text=True, env=bench.env,
                                  timeout=60)
            runs["command"].append(bench_imports.parse(done.stderr))
    vss, bare, command = (bench_imports.median_of(runs[k]) for k in ("vss", "bare", "command"))
    return {
        "rounds": IMPORT_ROUNDS,
        "prompt_total_ms": bench_imports.total_ms(vss),
        "bare_total_ms": bench_imports.total_ms(bare),
        "command_total_ms": bench_imports.total_ms(command),
        "prompt_costliest": bench_imports.costliest(vss),
        "command_costliest": bench_imports.costliest(command),
        "prompt_not_in_bare": bench_imports.extra(vss, bare),
        "prompt_own_modules": bench_imports.own_modules(vss),
        "command_not_at_prompt": bench_imports.extra(command, vss)[:10],
    }


# -- output -----------------------------------------------------------------------------

def _span(s: dict[str, float], unit: str) -> str:
    if unit == "ms":
        text = f"{s['median']:8.2f} [{s['min']:.2f}-{s['max']:.2f}]"
    else:
        text = f"{s['median']:8.2f} [{s['min']:.2f}-{s['max']:.2f}]"
    if "p99" in s:
        text += f" p99 {s['p99']:.2f}"
    return text


def print_table(figures: list[dict], notes: list[str], imports: dict[str, Any]) -> None:
    print(f"vss-shell benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"median [min-max]{' (quick)' if QUICK else ''}")
    print(f"{'figure':58} {'value':34} {'floor':34} {'ratio: median [min-max]':36} target")
    for f in figures:
        value = _span(f["value"], f["unit"]) + (f" {f['unit']}" if f["unit"] else "")
        floor = _span(f["floor"], f["unit"]) if "floor" in f else ""
        ratio = ""
        if "ratio" in f:
            r = f["ratio"]
            ratio = (f"{r['median']:.2f}x [{r['min']:.2f}-{r['max']:.2f}]" if "min" in r
                     else f"{r['median']:.2f}x")
            if "of_minima" in r:
                ratio += f" min/min {r['of_minima']:.2f}x"
        print(f"{f['name']:58} {value:34} {floor:34} {ratio:36} {f.get('target', '')}")
    print("floors:")
    for f in figures:
        if f.get("floor_is"):
            print(f"  {f['name']}: {f['floor_is']}")
    for note in notes:
        print(f"note: {note}")
    print(f"\nimports (median of {imports['rounds']} runs each) before the prompt: "
          f"{imports['prompt_total_ms']:.1f} ms "
          f"(bare prompt {imports['bare_total_ms']:.1f} ms); through a first command "
          f"{imports['command_total_ms']:.1f} ms")
    for key, title in (("prompt_costliest", "costliest before the prompt (own time)"),
                       ("command_costliest", "costliest through vss -c 'mfa status'")):
        print(f"  {title}:")
        for m in imports[key]:
            print(f"    {m['module']:40} {m['self_ms']:7.2f} ms  (cum {m['cumulative_ms']:.2f},"
                  f" from {m['imported_by']})")
    print("  imported before the prompt and not by the bare prompt (chain heads, cumulative):")
    for m in imports["prompt_not_in_bare"][:25]:
        print(f"    {m['module']:40} {m['cumulative_ms']:7.2f} ms  from {m['imported_by']}")
    own = imports["prompt_own_modules"]
    print(f"  our {len(own)} modules before the prompt: "
          f"{sum(m['self_ms'] for m in own):.1f} ms of their own; costliest:")
    for m in own[:8]:
        print(f"    {m['module']:40} {m['self_ms']:7.2f} ms  (cum {m['cumulative_ms']:.2f},"
              f" from {m['imported_by']})")


def main() -> int:
    compileall.compile_dir(str(ROOT / "shell"), quiet=1)  # as a wheel install has it
    figures: list[dict] = []
    notes: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vss-bench-") as tmp:
        bench = Bench(Path(tmp))
        try:
            prompt_figures, prompt_rss = first_prompt(bench)
            figures += prompt_figures
            figures += piped(bench, bench.url, PIPED_N, 5 if not QUICK else 3, "",
                             "<= 0.7 ms")
            figures += piped(bench, bench.slow_url, DELAYED_N, 3 if not QUICK else 2,
                             ", +20 ms/answer", "")
            figures += first_network(bench)
            figures += first_at_prompt(bench)
            figures += in_process()
            pty_figures, pty_rss = interactive(bench)
            figures += pty_figures
            figures.append(paired("peak RSS at the prompt", prompt_rss["vss"], prompt_rss["bare"],
                                  "MiB", "", "bare prompt"))
            figures.append(paired("peak RSS after 8 commands (pty)", pty_rss["vss_first"],
                                  pty_rss["bare_first"], "MiB", "", "bare prompt, same lines"))
            figures.append(paired(f"peak RSS after {PTY_COMMANDS} commands (pty)", pty_rss["vss"],
                                  pty_rss["bare"], "MiB", "< 40 MiB",
                                  "bare prompt, same lines"))
            ref, note = reference(bench)
            figures += ref
            if note:
                notes.append(note)
            counted, note = instructions(bench)
            figures += counted
            if note:
                notes.append(note)
            imports = import_costs(bench)
        finally:
            bench.close()
    notes.append(f"whole benchmark {time.perf_counter() - started:.0f} s")
    print_table(figures, notes, imports)
    out = ROOT / "bench" / "results.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"python": sys.version.split()[0], "cpus": os.cpu_count(),
                               "quick": QUICK, "figures": figures, "notes": notes,
                               "imports": imports}, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
