"""The campaign's fast subset (``pytest -m vm``, tox env ``vm``, so CI runs it): two mutants
of different families built through the cache and judged by the real gate. Each must be
CAUGHT; the full campaign is the periodic job (conformance/kernel-mutants/README.md).

Warm cache: each mutant is an incremental build of the files it touches (about a minute
with ccache) plus a boot and the suite up to the catching test. Cold, the first build is a
full one; the test then takes longer but still runs, it never skips.
"""

import json
import logging
from pathlib import Path

import pytest

from vm import cli, paths

pytestmark = pytest.mark.vm

SUBSET = ("hdr-no-pid", "excl-no-file-count")  # caught by the kselftest / by a rule test


def test_fast_subset_of_the_campaign_is_caught(capsys):
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s %(name)s] %(message)s")
    before = set(paths.cache_root().glob("runs/*-mutants"))
    rc = cli.main(["mutants", "--only", *SUBSET])
    table = capsys.readouterr().out
    with capsys.disabled():
        print("\n" + table)
    (run_dir,) = set(paths.cache_root().glob("runs/*-mutants")) - before
    scores = {s["mutant"]: s for s in json.loads(Path(run_dir, "score.json").read_text())["scores"]}
    assert {n: scores[n]["status"] for n in SUBSET} == {n: "caught" for n in SUBSET}, table
    assert all(scores[n]["caught_by"] for n in SUBSET)
    assert rc == 0
