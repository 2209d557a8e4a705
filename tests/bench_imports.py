"""``python -X importtime`` output as a tree: the costliest modules, and who imported them."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")
OWN = "vss_shell"


@dataclass
class Module:
    """One import: its own and cumulative microseconds, and its place in the tree."""

    name: str
    self_us: int
    cum_us: int
    depth: int
    children: list[Module] = field(default_factory=list)
    parent: Module | None = None

    def own(self) -> bool:
        return self.name == OWN or self.name.startswith(OWN + ".")

    def importer(self) -> str:
        """The nearest module of ours above this one (``-`` when imported at the top)."""
        node = self.parent
        while node is not None and not node.own():
            node = node.parent
        return node.name if node is not None else "-"


def parse(text: str) -> dict[str, Module]:
    """Modules by name, linked to their parent (importtime prints children first)."""
    pending: dict[int, list[Module]] = defaultdict(list)
    modules: dict[str, Module] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        depth = (len(match.group(3)) - 1) // 2
        module = Module(match.group(4), int(match.group(1)), int(match.group(2)), depth)
        module.children = pending.pop(depth + 1, [])
        for child in module.children:
            child.parent = module
        pending[depth].append(module)
        modules.setdefault(module.name, module)
    return modules


def median_of(runs: list[dict[str, Module]]) -> dict[str, Module]:
    """The first run's tree with each module's times the median over ``runs``."""
    import statistics

    first = runs[0]
    for name, module in first.items():
        found = [run[name] for run in runs if name in run]
        module.self_us = int(statistics.median(m.self_us for m in found))
        module.cum_us = int(statistics.median(m.cum_us for m in found))
    return first


def costliest(modules: dict[str, Module], count: int = 10) -> list[dict]:
    """The ``count`` modules with the largest own import time."""
    ranked = sorted(modules.values(), key=lambda m: m.self_us, reverse=True)[:count]
    return [{"module": m.name, "self_ms": m.self_us / 1000, "cumulative_ms": m.cum_us / 1000,
             "imported_by": m.importer()} for m in ranked]


def extra(vss: dict[str, Module], floor: dict[str, Module]) -> list[dict]:
    """Chains that ``vss`` imports and ``floor`` does not, outside our own package.

    Each entry is the head of a chain (its parent is ours or also in ``floor``), with
    its cumulative cost and the module of ours that imported it; largest first.
    """
    heads = []
    for module in vss.values():
        if module.own() or module.name in floor:
            continue
        parent = module.parent
        if parent is not None and not parent.own() and parent.name not in floor:
            continue  # inside a chain counted at its head
        heads.append(module)
    heads.sort(key=lambda m: m.cum_us, reverse=True)
    return [{"module": m.name, "cumulative_ms": m.cum_us / 1000,
             "imported_by": m.importer()} for m in heads]


def own_modules(modules: dict[str, Module]) -> list[dict]:
    """Every module of ours, by own cost (what it does itself, not what it imports)."""
    ranked = sorted((m for m in modules.values() if m.own()), key=lambda m: m.self_us,
                    reverse=True)
    return [{"module": m.name, "self_ms": m.self_us / 1000, "cumulative_ms": m.cum_us / 1000,
             "imported_by": m.importer()} for m in ranked]


def total_ms(modules: dict[str, Module]) -> float:
    """The sum of own import times."""
    return sum(m.self_us for m in modules.values()) / 1000
