"""Every operation script, run on the model (unmarked) and on the kernel in lockstep with
the model (marker ``kernel``): the scenario scripts of ``scripts/`` (one story each, the
rules it checks in its header) and the regression corpus of ``corpus/`` (reproducers
with the model's results, ``python -m conformance corpus add``). Each step's result must
be the one written, and on the kernel every step is also compared with the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .backends import make_backend
from .backends.lockstep import Divergence
from .replay import CORPUS, add_to_corpus
from .script import SUFFIX, header, parse, run

HERE = Path(__file__).resolve().parent
SCRIPTS = sorted((HERE / "scripts").glob(f"*{SUFFIX}")) + sorted(CORPUS.glob(f"*{SUFFIX}"))


def _id(p: Path) -> str:
    return f"{p.parent.name}/{p.stem}"


@pytest.mark.parametrize("path", SCRIPTS, ids=_id)
def test_script(backend, path):
    run(parse(path.read_text()), backend)


def found_with(path: Path) -> str | None:
    """The mutant a corpus entry was found with (its header says so), if any."""
    for line in header(path.read_text()):
        if line.startswith("corpus:") and "(mutant:" in line:
            return "mutant:" + line.split("(mutant:", 1)[1].split(")", 1)[0]
    return None


MUTANT_ENTRIES = [p for p in sorted(CORPUS.glob(f"*{SUFFIX}")) if found_with(p)]


@pytest.mark.parametrize("path", MUTANT_ENTRIES, ids=_id)
def test_corpus_entry_fails_on_the_mutant_it_was_found_with(path):
    """The entry has teeth: replayed on the broken model that produced it, the checker
    diverges (its results are the correct model's, the lockstep compares every step)."""
    b = make_backend(found_with(path))
    try:
        with pytest.raises(Divergence):
            run(parse(path.read_text()), b)
    finally:
        b.close_all()


def test_scripts_are_found():
    assert len([p for p in SCRIPTS if p.parent.name == "scripts"]) >= 5
    assert MUTANT_ENTRIES


def test_corpus_add_writes_the_models_results(tmp_path):
    """The corpus entry's results are the model's, whatever the reproducer said (the
    divergent step of a reproducer has none)."""
    repro = tmp_path / "nlmmap-repro-kernel.nls"
    repro.write_text("# reproducer: kernel\n# kernel and model disagree on\n#   mmap s0 = m0\n"
                     "# script so far (reads left out):\n#   socket = s0\n"
                     "socket = s0\nset_ring s0 rx {4096,4,4096,4} = -1 EINVAL\nmmap s0\n")
    out = add_to_corpus(repro, corpus=tmp_path / "corpus")
    assert out.name == "nlmmap-repro-kernel.nls"
    assert out.read_text() == (
        "# corpus: reproducer nlmmap-repro-kernel.nls (kernel), results from the model\n"
        "# it failed with:\n#   kernel and model disagree on\n#   mmap s0 = m0\n"
        "socket = s0\nset_ring s0 rx {4096,4,4096,4} = ok\nmmap s0 = m0\n")
    with pytest.raises(FileExistsError):
        add_to_corpus(repro, corpus=tmp_path / "corpus")


def test_corpus_add_reads_old_json_reproducers(tmp_path):
    """The JSON form recorded absolute portids of its run (another port base): they
    become the portid of the socket they belonged to."""
    port_of_s0 = 0x4E4D7000 + 2  # socket id 2 of a backend based at 0x4E4D7000
    doc = {"backend": "kernel", "error": "boom", "ops": [
        ["socket", [2]], ["set_ring", [2, False, {"RingReq": [4096, 4, 4096, 4]}]],
        ["mmap", [2]], ["socket", [2]],
        ["send", [4, {"bytes": "1400000030000000090000000000000061626364"},
                  {"tuple": [port_of_s0, 0]}]],
        ["frame", [2, "rx", 0]], ["recv", [2]]]}
    repro = tmp_path / "old.json"
    repro.write_text(json.dumps(doc))
    text = add_to_corpus(repro, "old", corpus=tmp_path).read_text()
    assert "send s1 1400000030000000090000000000000061626364 dst=@s0 = 20\n" in text
    assert "frame s0 rx 0 = COPY len=20 pid=self\n" in text
    assert "# it failed with:\n#   boom\n" in text
