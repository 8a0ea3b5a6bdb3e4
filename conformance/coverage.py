"""Which rules of spec/rules.toml have a conformance scenario:
``python -m conformance.coverage``.

A test covers the rules its function name carries (``test_r4_11_...`` -> R4.11,
``test_d2_...`` -> D2) and those its docstring cites ("(R4.5)")."""

from __future__ import annotations

import sys
from pathlib import Path

from spec import ENTRIES
from spec.cite import rules_cited_by_tests

HERE = Path(__file__).resolve().parent


def main() -> int:
    ids = [k for k, e in ENTRIES.items() if e.kind in ("rule", "decision")]
    cov = rules_cited_by_tests(sorted(HERE.glob("test_*.py")))
    for r in ids:
        names = ", ".join(t.split("::")[1] for t in cov.get(r, [])[:3])
        print(f"{r:7s} {len(cov.get(r, [])):3d}  {names}")
    have = [r for r in ids if r in cov]
    print(f"rules and decisions with a scenario: {len(have)} / {len(ids)}")
    print("without: " + " ".join(r for r in ids if r not in cov))
    return 0


if __name__ == "__main__":
    sys.exit(main())
