"""The catalogue is the only place rule ids come from: every id cited in the code, the
tests and the docs exists in it, every rule is tested or says why not, and RULES.md is
the catalogue's current rendering."""

from __future__ import annotations

import pytest

from spec import ENTRIES, RULES, check_ids, cited_in_name, cited_in_text, known, rule
from spec.cite import REPO, citing_files, rules_cited_by_tests, scan_tests
from spec.render import render

THIS = "test_catalogue.py"  # cites unknown ids on purpose


def test_rules_md_is_the_rendering_of_the_catalogue():
    assert (REPO / "spec" / "RULES.md").read_text() == render(), \
        "spec/RULES.md is stale: python -m spec render > spec/RULES.md"


def test_every_cited_id_is_in_the_catalogue():
    unknown = []
    for p in citing_files(exclude=[THIS]):
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1):
            unknown += [f"{p.relative_to(REPO)}:{n}: {c}" for c in cited_in_text(line)
                        if not known(c)]
    for p, name, _doc in scan_tests(citing_files(exclude=[THIS])):
        unknown += [f"{p.relative_to(REPO)}::{name}: {c}" for c in cited_in_name(name)
                    if not known(c)]
    assert not unknown, "\n".join(unknown)


def test_links_inside_the_catalogue_resolve():
    for e in ENTRIES.values():
        check_ids(*e.rules)


def test_every_rule_is_tested_or_says_why_not():
    cited = rules_cited_by_tests(citing_files(exclude=[THIS]))
    missing = [r for r, e in RULES.items() if r not in cited and not e.untested]
    stale = [f"{r} (cited by {cited[r][0]})" for r, e in RULES.items()
             if r in cited and e.untested]
    assert not missing, f"rules no test cites and without an 'untested' reason: {missing}"
    assert not stale, f"rules marked untested that a test cites: {stale}"


def test_unknown_ids_are_refused():
    with pytest.raises(KeyError, match="R4.99"):
        check_ids("R4.9", "R4.99")
    with pytest.raises(KeyError):
        rule("fix 1.1")
    assert known("R2.5.8") and not known("R2.5.9") and not known("R4.9.1")
    assert known("R4.3d") and not known("R4.17a")
    assert cited_in_text("fallback (R4.3a), R2.5.8 and D16") == {"R4.3a", "R2.5.8", "D16"}
    assert cited_in_name("test_r2_1_r3_1_r9_14_x") == {"R2.1", "R3.1", "R9.14"}
    assert cited_in_name("test_d16_r5_5_x") == {"D16", "R5.5"}


def test_catalogue_covers_every_section_without_gaps():
    """Rules are numbered 1..n in each section: a hole is a rule lost in an edit."""
    by_section: dict[str, list[int]] = {}
    for r in RULES:
        s, n = r.split(".")
        by_section.setdefault(s, []).append(int(n))
    assert sorted(by_section) == [f"R{i}" for i in range(1, 10)]
    for s, ns in by_section.items():
        assert sorted(ns) == list(range(1, len(ns) + 1)), s
    assert [d for d in ENTRIES if d.startswith("D")] == [f"D{i}" for i in range(1, 27)]
