"""Which SEMANTICS.md rules have a scenario: ``python -m conformance.coverage``.

A test covers the rules named in its function name (``test_r4_11_...`` -> R4.11,
``test_d2_...`` -> D2) or cited in its docstring ("(R4.5)"). Rules are read from
shared/SEMANTICS.md (path: $NLMMAP_SEMANTICS or ../shared/SEMANTICS.md next to the repo)."""

from __future__ import annotations

import ast
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
NAME_RE = re.compile(r"(?:^|_)(r\d+_\d+|d\d+)(?=_|$)")
DOC_RE = re.compile(r"\b(R\d+\.\d+|D\d+)\b")


def semantics_rules(path: str) -> list[str]:
    with open(path) as f:
        text = f.read()
    rules = re.findall(r"^\*\*(R\d+\.\d+) ", text, re.M)
    rules += re.findall(r"^- \*\*(D\d+) ", text, re.M)
    return sorted(set(rules), key=lambda r: [int(x) for x in re.findall(r"\d+", r)])


def covered() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for fn in sorted(os.listdir(HERE)):
        if not (fn.startswith("test_") and fn.endswith(".py")):
            continue
        tree = ast.parse(open(os.path.join(HERE, fn)).read())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                rules = {m.upper().replace("_", ".") for m in NAME_RE.findall(node.name)}
                rules |= set(DOC_RE.findall(ast.get_docstring(node) or ""))
                for r in rules:
                    out.setdefault(r, []).append(f"{fn}::{node.name}")
    return out


def main() -> int:
    path = os.environ.get("NLMMAP_SEMANTICS",
                          os.path.join(HERE, "..", "..", "shared", "SEMANTICS.md"))
    rules = semantics_rules(path)
    cov = covered()
    have = [r for r in rules if r in cov]
    for r in rules:
        names = ", ".join(t.split("::")[1] for t in cov.get(r, [])[:3])
        print(f"{r:7s} {len(cov.get(r, [])):3d}  {names}")
    print(f"rules with a scenario: {len(have)} / {len(rules)}")
    print("without: " + " ".join(r for r in rules if r not in cov))
    return 0


if __name__ == "__main__":
    sys.exit(main())
