"""Judge a guest console log: find kernel splats and quote them.

Only *kernel* lines count: printk lines carry a ``[ seconds.micros]`` timestamp (the
harness boots with ``printk.time=1``), optionally followed by a caller id ``[T123]``.
Console output interleaves with user-space output, so the timestamp is searched anywhere
in a line, not only at its start.  That keeps "WARNING: ..." printed by some user-space
tool from failing the gate while every kernel report does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PRINTK = re.compile(r"\[\s*\d+\.\d+\](?:\[\s*[TC]\d+\])?\s?(?P<msg>.*)$")

# (kind, pattern matched at the start of the printk message)
SPLATS: list[tuple[str, re.Pattern[str]]] = [
    ("kasan", re.compile(r"BUG: KASAN: ")),
    ("kfence", re.compile(r"BUG: KFENCE: ")),
    ("lockdep", re.compile(
        r"WARNING: (possible circular locking dependency|possible recursive locking|"
        r"inconsistent lock state|suspicious RCU usage|held lock freed|"
        r"lock held when returning to user space|bad unlock balance|"
        r"possible irq lock inversion|nested lock was not taken|"
        r"HARDIRQ-safe -> HARDIRQ-unsafe|SOFTIRQ-safe -> SOFTIRQ-unsafe|"
        r"lock held at task exit|\S+ lock held)")),
    ("hung-task", re.compile(r"INFO: task \S+ blocked for more than \d+ seconds")),
    ("rcu-stall", re.compile(r"(rcu: )?INFO: rcu_\w+ (self-)?detected (stalls|stall)")),
    ("soft-lockup", re.compile(r"watchdog: BUG: soft lockup")),
    ("panic", re.compile(r"Kernel panic - not syncing")),
    ("oops", re.compile(r"Oops: |Oops\b|general protection fault|kernel BUG at ")),
    ("ubsan", re.compile(r"UBSAN: ")),
    ("kasan", re.compile(r"KASAN: ")),
    ("bug", re.compile(r"BUG: ")),
    ("warning", re.compile(r"WARNING: ")),
    ("list-corruption", re.compile(r"list_(add|del) corruption")),
    ("refcount", re.compile(r"refcount_t: ")),
]

_END = re.compile(r"---\[ end (trace|Kernel panic)|^={20,}")
EXCERPT_LINES = 30
CONTEXT_BEFORE = 2


@dataclass
class Splat:
    kind: str
    line_no: int  # 1-based line in the console log
    headline: str
    excerpt: list[str]

    def render(self) -> str:
        body = "\n".join("    | " + x for x in self.excerpt)
        return f"{self.kind} at console line {self.line_no}: {self.headline}\n{body}"


def printk_message(line: str) -> str | None:
    """The message part of a kernel printk line, or None for user-space output."""
    m = _PRINTK.search(line)
    return m.group("msg") if m else None


def classify(msg: str) -> str | None:
    for kind, pat in SPLATS:
        if pat.match(msg):
            return kind
    return None


def clean(text: str) -> str:
    """Normalise console bytes: drop NULs, CRs and ANSI escapes."""
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def find_splats(text: str, allow: list[re.Pattern[str]] | None = None) -> list[Splat]:
    """Every kernel splat in ``text``; lines already inside a previous excerpt only
    start a new splat if they are a different kind of report (a panic after an Oops)."""
    lines = clean(text).split("\n")
    splats: list[Splat] = []
    covered_until = -1
    for i, line in enumerate(lines):
        msg = printk_message(line)
        if msg is None:
            continue
        kind = classify(msg.strip())
        if kind is None:
            continue
        if allow and any(p.search(msg) for p in allow):
            continue
        if i <= covered_until and splats and kind in ("bug", "warning", "oops", "kasan"):
            continue
        excerpt = []
        for j in range(max(0, i - CONTEXT_BEFORE, covered_until + 1), i):
            if printk_message(lines[j]) is not None:  # lead-in, e.g. "sysrq: Trigger a crash"
                excerpt.append(lines[j].rstrip())
        lead = len(excerpt)
        for j in range(i, min(len(lines), i + EXCERPT_LINES)):
            excerpt.append(lines[j].rstrip())
            if j > i and _END.search(printk_message(lines[j]) or ""):
                break
        covered_until = i + len(excerpt) - lead - 1
        splats.append(Splat(kind, i + 1, msg.strip(), excerpt))
    return splats


def tail(text: str, n: int = 20) -> list[str]:
    lines = [x for x in clean(text).split("\n") if x.strip()]
    return lines[-n:]
