"""spec/RULES.md from spec/rules.toml (``python -m spec render > spec/RULES.md``)."""

from __future__ import annotations

from . import ENTRIES, Entry

HEADER = """\
# The rules of memory-mapped netlink I/O

Generated from `spec/rules.toml` by `python -m spec render`; edit the TOML, not this file
(`spec/test_catalogue.py` fails when the two differ). Test names and docstrings cite these
ids (`test_r4_9_...`, "(R4.9)"), the model names the ones each decision applies
(`w.apply("R4.9")`; the gate reports per id the operations the kernel agreed with, in
`rule-coverage.md`); `R2.5.8` is step 8 of R2.5, `R4.3d` case (d) of R4.3. Frame status values are
written UNUSED 0, RESERVED 1, VALID 2, COPY 3, SKIP 4; N is the number of frames of a ring
and "head" the kernel's private index of the next frame it uses. "Overrun" means: unless
NETLINK_NO_ENOBUFS is set, the socket is marked congested and, the first time, gets
sk_err = ENOBUFS; its drop counter rises in every case.

Origins: "seed" is Patrick McHardy's 2013 series (merged in 3.10); "3.10" is the code as
merged; "later upstream" a change made before the feature was removed in 2016; the patches
named are those of this series (`patches/`). The port's decisions (D) override the
historical text where they differ; their full text is in `patches/DECISIONS.md` (D6 and
later) and the model's assumptions (M) in `model/RULES.md`.
"""


def _of(kind: str) -> list[Entry]:
    return [e for e in ENTRIES.values() if e.kind == kind]


def _rule(e: Entry) -> str:
    meta = f"*Origin:* {e.origin}."
    if e.patches:
        meta += f" *Patches:* {', '.join(e.patches)}."
    if e.untested:
        meta += f" *Not tested:* {e.untested}."
    return f"**{e.id} — {e.title}.** {' '.join(e.text.split())}\n{meta}\n"


def render() -> str:
    out = [HEADER]
    rules = _of("rule")
    for sec in _of("section"):
        out.append(f"## {sec.id}. {sec.title}\n")
        out += [_rule(e) for e in rules if e.id.split(".")[0] == sec.id]
    out.append("## Port decisions\n")
    out.append("| id | decision | status | rules it changes | patches |\n|---|---|---|---|---|")
    for d in _of("decision"):
        out.append(f"| {d.id} | {d.title} | {d.status} | {', '.join(d.rules)} | "
                   f"{', '.join(d.patches)} |")
    out.append("")
    for d in _of("decision"):
        if d.text:
            out.append(f"**{d.id}.** {' '.join(d.text.split())}\n")
    out.append("## Model assumptions (details in `model/RULES.md`)\n")
    out.append("| id | assumption | rules |\n|---|---|---|")
    out += [f"| {m.id} | {m.title} | {', '.join(m.rules)} |" for m in _of("model")]
    out.append("\n## Upstream fixes re-checked by `conformance/test_bug_history.py`\n")
    out.append("| id | fix | what was wrong | rules |\n|---|---|---|---|")
    out += [f"| {f.id} | {f.title} | {f.text} | {', '.join(f.rules)} |" for f in _of("fix")]
    return "\n".join(out) + "\n"
