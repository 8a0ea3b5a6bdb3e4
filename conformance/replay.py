"""Reproducers and the regression corpus, as operation scripts (``script.py``).

:func:`save` writes what a :class:`~conformance.script.Recorder` saw (the differential
machine's shrunk run, up to the step that diverged) or a plan's sequence up to the call
that differed; :func:`replay` runs a script again on
a fresh backend, checking every expected result; :func:`add_to_corpus` makes a reproducer
a regression test: its steps with the *model's* results, into ``conformance/corpus/``,
where ``test_scripts.py`` replays it on every backend::

    python -m conformance replay FILE [--backend model|kernel|mutant:NAME]
    python -m conformance corpus add REPRO [--name NAME]

Reproducers of the JSON form written before scripts existed (``[method, args]`` with the
run's absolute portids) are read too.
"""

from __future__ import annotations

import json
import logging
import re
from itertools import takewhile
from pathlib import Path

from .backends import make_backend
from .backends.base import PORT_SPACING
from .backends.model import ModelBackend
from .script import SUFFIX, Recorder, Step, header, parse, render, run
from .uapi import RingReq

log = logging.getLogger(__name__)

CORPUS = Path(__file__).resolve().parent / "corpus"


def save(steps: list[Step], error: str, backend: str, path: str) -> str:
    """Write the steps as a script, the error as its comment header."""
    with open(path, "w") as f:
        f.write(render(steps, [f"reproducer: {backend}", *error.splitlines()]))
    return path


def _dec(v):
    if isinstance(v, dict):
        if "RingReq" in v:
            return RingReq(*v["RingReq"])
        if "bytes" in v:
            return bytes.fromhex(v["bytes"])
        if "tuple" in v:
            return tuple(_dec(x) for x in v["tuple"])
    return v


def _from_json(doc: dict) -> list[Step]:
    """The steps of an old JSON reproducer, by running it on the model: its ids are the
    ones a fresh backend hands out again, its portids are rebased on the model's."""
    rec = Recorder(ModelBackend())
    for op, args in doc["ops"]:
        args = [_dec(a) for a in args]
        if op in ("send", "send_ring", "sendmsg_noiov", "connect") and len(args) > 1 \
                and isinstance(args[-1], tuple) and args[-1][0]:
            port, groups = args[-1]
            args[-1] = (rec.b.portid(port % PORT_SPACING), groups)
        try:
            getattr(rec, op)(*args)
        except OSError:
            pass
    return [Step(s.op, s.args) for s in rec.steps]


def load(path: str | Path) -> tuple[list[Step], list[str]]:
    """A script or an old JSON reproducer: (steps, comment header)."""
    text = Path(path).read_text()
    if text.lstrip().startswith("{"):
        doc = json.loads(text)
        return _from_json(doc), [f"reproducer: {doc.get('backend', '?')}",
                                 *doc.get("error", "").splitlines()]
    return parse(text), header(text)


def replay(path: str, backend: str | None = None, verbose: bool = True) -> int:
    """Run a script, checking every result. Returns 0 if it runs clean, 1 if it fails."""
    steps, comments = load(path)
    recorded = next((c.split(":", 1)[1].strip() for c in comments
                     if c.startswith("reproducer:")), "model")
    name = backend or recorded
    b = make_backend(name)
    try:
        done = run(steps, b)
    except AssertionError as e:  # Mismatch, or the lockstep checker's Divergence
        print(f"FAILED on {name}: {e}")
        return 1
    finally:
        b.close_all()
    if verbose:
        print(render(done), end="")
    print(f"replay of {len(steps)} steps on {name}: every result as expected")
    return 0


def with_model_results(steps: list[Step]) -> list[Step]:
    """The same steps with the results the model gives (what a correct kernel does)."""
    b = ModelBackend()
    try:
        return run([Step(s.op, s.args) for s in steps], b)
    finally:
        b.close_all()


def corpus_name(path: str | Path) -> str:
    stem = Path(path).name.rsplit(".", 1)[0]
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")


def add_to_corpus(repro: str | Path, name: str | None = None,
                  corpus: Path = CORPUS) -> Path:
    """Write ``repro`` into the corpus with the model's results; returns the new file."""
    steps, comments = load(repro)
    backend = next((c.split(":", 1)[1].strip() for c in comments
                    if c.startswith("reproducer:")), "?")
    error = [c for c in takewhile(lambda c: not c.startswith("script so far"), comments)
             if c and not c.startswith("reproducer:")]
    out = corpus / f"{name or corpus_name(repro)}{SUFFIX}"
    if out.exists():
        raise FileExistsError(f"{out} exists: choose another --name")
    body = render(with_model_results(steps), [
        f"corpus: reproducer {Path(repro).name} ({backend}), results from the model",
        *(["it failed with:", *(f"  {c}" for c in error)] if error else [])])
    corpus.mkdir(exist_ok=True)
    out.write_text(body)
    log.info("added %s (%d steps)", out, len(steps))
    return out
