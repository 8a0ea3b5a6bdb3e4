"""Where rules are cited: the files that may cite them and the tests that do."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from itertools import takewhile
from pathlib import Path

from . import base_rule, cited_in_name, cited_in_text

REPO = Path(__file__).resolve().parent.parent
CITING_DIRS = ("model", "conformance", "vm", "spec")
SUFFIXES = {".py", ".md", ".diff", ".c", ".sh", ".nls"}


def citing_files(exclude: Iterable[str] = ()) -> Iterator[Path]:
    """Every file whose text may cite rule ids: code, tests, mutants, docs."""
    skip = set(exclude)
    for top in CITING_DIRS:
        for p in sorted((REPO / top).rglob("*")):
            if (p.suffix in SUFFIXES and p.is_file() and "__pycache__" not in p.parts
                    and p.name not in skip):
                yield p
    yield from sorted((REPO / "patches").glob("*.md"))
    yield REPO / "README.md"


def scan_tests(files: Iterable[Path]) -> Iterator[tuple[Path, str, str]]:
    """(file, name, docstring) of the test functions defined in ``files``, and of the
    operation scripts (conformance/scripts/*.nls: the comment header is the docstring)."""
    for p in files:
        if p.suffix == ".nls":
            head = takewhile(lambda ln: ln.startswith("#"), p.read_text().splitlines())
            yield p, p.stem, "\n".join(ln.lstrip("# ") for ln in head)
            continue
        if p.suffix != ".py" or not p.name.startswith("test_"):
            continue
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                yield p, node.name, ast.get_docstring(node) or ""


def rules_cited_by_tests(files: Iterable[Path]) -> dict[str, list[str]]:
    """Rule/decision id -> the tests (``file::name``) whose name or docstring cites it;
    a step (R2.5.8) counts for its rule."""
    out: dict[str, list[str]] = {}
    for p, name, doc in scan_tests(files):
        for c in cited_in_name(name) | cited_in_text(doc):
            out.setdefault(base_rule(c), []).append(f"{p.name}::{name}")
    return out
