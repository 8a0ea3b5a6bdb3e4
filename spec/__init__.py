"""The project's specification as data: rules R1.1-R9.14, the port's decisions D1-D25,
the model's assumptions M1-M8 and the upstream fixes the suite re-checks.

``spec/rules.toml`` is the single source; ``spec/RULES.md`` is rendered from it
(``python -m spec render``). Code refers to rules through :func:`rule` and
:func:`check_ids`, so an id that is not in the catalogue is an error, not a comment."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

CATALOGUE = Path(__file__).with_name("rules.toml")

# "R4.9", "R2.5.8" (step 8 of R2.5), "R4.3d" (case d of R4.3), "R4" (a section), "D16",
# "M3"
CITATION = re.compile(r"\b(R\d+(?:\.\d+){0,2}[a-e]?|D\d+|M\d+)\b")
# the same in test names: test_r4_9_..., test_d16_..., test_r2_5_8_...
NAME_CITATION = re.compile(r"(?:^|_)(r\d+(?:_\d+){1,2}|d\d+)(?=_|$)")


@dataclass(frozen=True)
class Entry:
    """One catalogue entry: a section, rule, decision, model assumption or fix."""

    kind: str
    id: str
    title: str
    text: str = ""
    origin: str = ""
    patches: tuple[str, ...] = ()
    steps: int = 0
    untested: str = ""
    status: str = ""
    rules: tuple[str, ...] = field(default=())


KINDS = ("section", "rule", "decision", "model", "fix")


def _load() -> dict[str, Entry]:
    doc = tomllib.loads(CATALOGUE.read_text())
    out: dict[str, Entry] = {}
    for kind in KINDS:
        for raw in doc.get(kind, []):
            e = Entry(kind=kind, **{k: tuple(v) if isinstance(v, list) else
                                    (v.strip() if isinstance(v, str) else v)
                                    for k, v in raw.items()})
            key = f"fix {e.id}" if kind == "fix" else e.id
            if key in out:
                raise ValueError(f"{CATALOGUE}: {key} defined twice")
            out[key] = e
    return out


ENTRIES = _load()
RULES = {k: e for k, e in ENTRIES.items() if e.kind == "rule"}


def rule(rid: str) -> Entry:
    """The entry of a rule, decision or model assumption; KeyError names unknown ids."""
    e = ENTRIES.get(rid)
    if e is None or e.kind == "fix":
        raise KeyError(f"{rid} is not in spec/rules.toml")
    return e


def known(cid: str) -> bool:
    """Is a citation valid: an entry, step k of a rule that has at least k steps, or a
    lettered case of a rule ("R4.3d")."""
    if cid[0] == "R" and cid[-1].isalpha():
        return cid[:-1] in RULES
    if cid in ENTRIES and ENTRIES[cid].kind != "fix":
        return True
    parts = cid.split(".")
    if len(parts) == 3:
        base = ENTRIES.get(".".join(parts[:2]))
        return base is not None and base.kind == "rule" and 1 <= int(parts[2]) <= base.steps
    return False


def check_ids(*ids: str) -> tuple[str, ...]:
    """Return ``ids`` unchanged if every one is known, else raise KeyError naming them."""
    bad = [i for i in ids if not known(i)]
    if bad:
        raise KeyError(f"not in spec/rules.toml: {', '.join(bad)}")
    return ids


def cited_in_text(text: str) -> set[str]:
    return set(CITATION.findall(text))


def cited_in_name(name: str) -> set[str]:
    """Rule ids a test name carries: test_r4_9_r4_10_x -> {R4.9, R4.10}."""
    return {m.upper().replace("_", ".") for m in NAME_CITATION.findall(name.lower())}


def base_rule(cid: str) -> str:
    """R2.5.8 -> R2.5, R4.3d -> R4.3; anything else unchanged."""
    if not cid.startswith("R"):
        return cid
    return ".".join(cid.split(".")[:2]).rstrip("abcde")
