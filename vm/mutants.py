"""``python -m vm mutants``: the kernel mutation campaign.

Each file ``conformance/kernel-mutants/NAME.diff`` is a small unified diff against the
*patched* tree that breaks one rule of the series, with a header of ``# Key: value``
lines (continuation lines start with ``#`` and spaces) before the diff:

    # Rule: R4.9: ...            the rule it breaks (required)
    # Family: credentials ...    the rule family of issue 12 it covers (required)
    # Breaks: ...                what the change does (required)
    # Expect: test_...           which test should catch it (required)
    # Equivalent: ...            the written argument, if the mutant cannot be observed
    # Profile: debug             the gate profile it needs (default: any)

For each mutant the campaign writes a variant series (``patches/`` + the diff as one
more patch), builds it through the cache (incremental: the cache-owned tree is the
series' tree with one patch more), runs the gate on it with ``--fail-fast`` and records
whether the verdict is FAIL (caught), by which test, after how many guest seconds, and the
reproducer the verdict names. The score table (Markdown) and ``score.json`` go to the
campaign's run directory; the exit status is 0 only if every non-equivalent mutant that
was run is caught (1: a survivor; 2: a mutant could not be judged, e.g. it does not apply
or build).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from spec import check_ids, cited_in_text

from . import boot, dryrun, paths, series, trial
from .errors import GateError

log = logging.getLogger(__name__)

MUTANTS = paths.REPO / "conformance" / "kernel-mutants"
REQUIRED = ("rule", "family", "breaks", "expect")
KEYS = (*REQUIRED, "equivalent", "profile")


@dataclass
class Mutant:
    name: str
    path: Path
    data: bytes
    rule: str
    family: str
    breaks: str
    expect: str
    equivalent: str | None = None
    profile: str | None = None

    def as_patch(self) -> series.Patch:
        return series.Patch(f"mutant-{self.name}.diff", self.path, self.data)

    @property
    def files(self) -> list[str]:
        return self.as_patch().files()

    @property
    def expected_tests(self) -> list[str]:
        """The test names in ``Expect`` (function names, or ids with parameters): a
        fail-fast gate runs them first."""
        return list(dict.fromkeys(re.findall(r"\btest_\w+(?:\[[^\]\s]*\])?", self.expect)))


class MutantError(GateError):
    """A mutant file is malformed (no header field, no diff)."""


def parse_header(text: str) -> dict[str, str]:
    """The ``# Key: value`` fields before the diff (keys lower-cased, lines joined)."""
    fields: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if line.startswith(("--- ", "diff ", "@@")):
            break
        if not line.startswith("#"):
            key = None
            continue
        body = line[1:]
        head, sep, rest = body.strip().partition(":")
        if sep and not body.startswith("  ") and head.lower() in KEYS:
            key = head.lower()
            fields[key] = rest.strip()
        elif key and body.startswith("  "):
            fields[key] += " " + body.strip()
    return fields


def parse(path: Path) -> Mutant:
    data = path.read_bytes()
    text = data.decode("utf-8", "replace")
    fields = parse_header(text)
    missing = [k for k in REQUIRED if not fields.get(k)]
    if missing:
        raise MutantError(f"kernel mutant {path.name}: header field(s) missing: "
                          f"{', '.join(k.capitalize() for k in missing)}", str(path))
    try:
        check_ids(*(cited_in_text(fields["rule"]) or {"(none)"}))
    except KeyError as e:
        raise MutantError(f"kernel mutant {path.name}: Rule: {e.args[0]}", str(path)) from None
    m = Mutant(path.stem, path, data, fields["rule"], fields["family"], fields["breaks"],
               fields["expect"], fields.get("equivalent"), fields.get("profile"))
    if not m.files or "\n@@ " not in text:
        raise MutantError(f"kernel mutant {path.name} holds no unified diff", str(path))
    return m


def load(directory: Path = MUTANTS, only: list[str] | None = None) -> list[Mutant]:
    found = {p.stem: p for p in sorted(directory.glob("*.diff"))}
    if only:
        unknown = [n for n in only if n not in found]
        if unknown:
            raise GateError(f"no kernel mutant named {', '.join(unknown)}",
                            f"{directory} (have: {', '.join(found)})")
        return [parse(found[n]) for n in only]
    return [parse(p) for p in found.values()]


def mutant_series(dest: Path, series_dir: Path, m: Mutant, after: int | None = None) -> Path:
    """Variant series: ``series_dir``'s patches with ``m`` after the first ``after`` (all)."""
    patches = series.read_series(series_dir)
    return trial.write_variant(dest, trial.insert(patches, m.as_patch(), after),
                               sorted(series_dir.glob("*.config")))


# ---- scores ------------------------------------------------------------------------------

@dataclass
class Score:
    mutant: str
    family: str
    expect: str
    status: str  # caught | survived | equivalent | error | skipped
    caught_by: str = ""
    guest_seconds: float | None = None
    seconds: float | None = None  # build + gate wall time
    reproducers: list[str] = field(default_factory=list)
    detail: str = ""  # the verdict headline or the error
    log: str = ""


WITHOUT_KSELFTEST = "running without the kselftest suite"  # vm.kselftest.prepare's warning
NO_RESULTS = "pytest left no JUnit XML"  # vm.judge: pytest itself failed (usage, import)


def judge(m: Mutant, t: trial.Trial) -> Score:
    s = Score(m.name, m.family, m.expect, "error", guest_seconds=t.guest_seconds,
              reproducers=t.reproducers, detail=t.headline, log=t.log)
    if t.outcome == "fail" and NO_RESULTS in t.headline:
        s.detail = "pytest gave no results (not a catch): " + s.detail
    elif t.outcome == "fail":
        s.status, s.caught_by = "caught", t.caught_by
        if m.equivalent:
            s.detail = "declared equivalent but caught: the argument is wrong; " + s.detail
    elif t.outcome == "pass" and WITHOUT_KSELFTEST in t.output:
        s.detail = "passed without the kselftest suite (a survivor must face the whole gate)"
    elif t.outcome == "pass":
        s.status = "equivalent" if m.equivalent else "survived"
    return s


STATUS_WORD = {"caught": "CAUGHT", "survived": "**SURVIVED**", "equivalent": "equivalent",
               "error": "**ERROR**", "skipped": "not run"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_table(scores: list[Score]) -> str:
    """The score table (Markdown) and a one-line summary."""
    rows = ["| mutant | family | verdict | caught by | guest s | reproducer |",
            "|---|---|---|---|---:|---|"]
    for s in scores:
        by = s.caught_by if s.status == "caught" else (
            s.detail if s.status in ("error", "skipped") else "")
        secs = f"{s.guest_seconds:.0f}" if s.guest_seconds is not None and \
            s.status == "caught" else ""
        repro = ", ".join(Path(r).name for r in s.reproducers)
        rows.append(f"| `{s.mutant}` | {_cell(s.family)} | {STATUS_WORD[s.status]} | "
                    f"{_cell(by)} | {secs} | {_cell(repro)} |")
    return "\n".join(rows) + "\n\n" + summary(scores) + "\n"


def summary(scores: list[Score]) -> str:
    n = {k: sum(1 for s in scores if s.status == k) for k in STATUS_WORD}
    judged = n["caught"] + n["survived"]
    pct = f"{100 * n['caught'] / judged:.0f}%" if judged else "n/a"
    return (f"{n['caught']}/{judged} non-equivalent mutants caught ({pct}); "
            f"{n['equivalent']} equivalent (survived as argued), {n['error']} not judged "
            f"(error), {n['skipped']} not run")


def exit_code(scores: list[Score]) -> int:
    if any(s.status == "survived" for s in scores):
        return 1
    if any(s.status == "error" for s in scores):
        return 2
    return 0


def write_scores(run_dir: Path, scores: list[Score], meta: dict) -> None:
    (run_dir / "score.md").write_text(render_table(scores))
    (run_dir / "score.json").write_text(json.dumps(
        {**meta, "scores": [asdict(s) for s in scores]}, indent=1) + "\n")


def combine(run_dirs: list[Path], directory: Path = MUTANTS) -> tuple[list[Score], dict]:
    """One score table from campaigns that were each stopped part-way (a full campaign
    outlasts a session). Every run must have built the same series (its digest), else the
    table would mix kernels; a mutant scored in several runs keeps its latest score, and a
    mutant of ``directory`` that no run scored is listed as not run."""
    runs = []
    for d in run_dirs:
        try:
            runs.append(json.loads((d / "score.json").read_text()))
        except (OSError, ValueError) as e:
            raise GateError(f"{d}: no campaign score ({e})") from None
    digests = {r["series_sha256"] for r in runs}
    if len(digests) != 1:
        raise GateError("campaigns of different series cannot be combined: "
                        + ", ".join(f"{d} {r['series_sha256'][:12]}"
                                    for d, r in zip(run_dirs, runs, strict=True)))
    latest: dict[str, Score] = {}
    for r in sorted(runs, key=lambda r: r["started"]):
        for x in r["scores"]:
            if x["status"] != "skipped":
                latest[x["mutant"]] = Score(**x)
    scores = [latest.get(m.name) or Score(m.name, m.family, m.expect, "skipped",
                                          detail="in no campaign")
              for m in load(directory)]
    meta = {k: runs[-1][k] for k in ("series_dir", "profile", "series", "series_sha256")}
    meta["combined"] = [{"run": str(d), "started": r["started"]}
                        for d, r in zip(run_dirs, runs, strict=True)]
    return scores, meta


# ---- the command -------------------------------------------------------------------------

def add_parser(sub) -> None:
    p = sub.add_parser("mutants", help="kernel mutation campaign: build each mutant of "
                       "conformance/kernel-mutants/ on top of the series, run the gate "
                       "(fail-fast) on it, print the score table")
    p.add_argument("--only", nargs="+", metavar="NAME", default=None,
                   help="run these mutants only (file names without .diff)")
    p.add_argument("--profile", choices=("fast", "debug"), default="fast")
    p.add_argument("--series-dir", type=Path, default=paths.PATCHES, metavar="DIR")
    p.add_argument("--mutants-dir", type=Path, default=MUTANTS, metavar="DIR")
    p.add_argument("-k", dest="kexpr", metavar="EXPR", help="pytest -k for every gate run")
    p.add_argument("--combine", nargs="+", type=Path, metavar="RUN_DIR",
                   help="run nothing: one score table from earlier campaigns of the same "
                   "series (the latest score of each mutant)")
    p.add_argument("--dry-run", action="store_true",
                   help="check that every mutant applies on top of the series (base files "
                   "from the source tarball) and print what would be built and run")
    p.add_argument("gate_args", nargs=argparse.REMAINDER,
                   help="after --: more options for every gate run (e.g. --accel tcg)")


def _gate_args(args) -> list[str]:
    extra = list(args.gate_args)
    return extra[1:] if extra[:1] == ["--"] else extra


def _select(args) -> tuple[list[Mutant], list[Score]]:
    """Mutants to run, and the scores of those not run (another profile)."""
    run, skipped = [], []
    for m in load(args.mutants_dir, args.only):
        if m.profile and m.profile != args.profile:
            skipped.append(Score(m.name, m.family, m.expect, "skipped",
                                 detail=f"needs --profile {m.profile}"))
        else:
            run.append(m)
    return run, skipped


def dry_run(args, todo: list[Mutant], skipped: list[Score]) -> int:
    patches = series.read_series(args.series_dir)
    pristine = trial.Pristine(trial.touched(patches) | {f for m in todo for f in m.files})
    bad = 0
    try:
        for i, m in enumerate(todo, 1):
            why = pristine.check(trial.insert(patches, m.as_patch()))
            bad += why is not None
            print(f"[{i}/{len(todo)}] {m.name}: {'applies' if why is None else why}")
            print(f"    rule: {m.rule}\n    expect: {m.expect}"
                  + (f"\n    equivalent: {m.equivalent}" if m.equivalent else ""))
            print("    would run: " + " ".join(trial.gate_command(
                Path("<bzImage of series + mutant>"), profile=args.profile,
                junit=Path("<run dir>/junit.xml"), kexpr=args.kexpr,
                first=m.expected_tests, gate_args=_gate_args(args))))
    finally:
        pristine.close()
    plan, _bz, _tree = dryrun.build_plan(profile=args.profile, series_dir=args.series_dir,
                                         patches=[*patches, todo[0].as_patch()] if todo
                                         else patches)
    print(f"each mutant is built like this ({todo[0].name if todo else 'the series'} "
          "shown; the cache tree is re-patched, so make is incremental):")
    print("\n".join("    " + x for x in plan))
    for s in skipped:
        print(f"[-] {s.mutant}: not run ({s.detail})")
    print(f"dry run: {len(todo) - bad}/{len(todo)} mutants apply on top of "
          f"{len(patches)} patches of {args.series_dir}")
    return 2 if bad else 0


def cmd_mutants(args) -> int:
    if args.combine:
        scores, meta = combine(args.combine, args.mutants_dir)
        run_dir = boot.new_run_dir(paths.cache_root(), "mutants")
        write_scores(run_dir, scores, meta)
        print(render_table(scores), end="")
        log.info("mutants: combined %d campaigns into %s", len(args.combine), run_dir)
        unscored = any(s.status == "skipped" for s in scores)
        return exit_code(scores) or (2 if unscored else 0)
    todo, skipped = _select(args)
    if args.dry_run:
        return dry_run(args, todo, skipped)
    run_dir = boot.new_run_dir(paths.cache_root(), "mutants")
    patches = series.read_series(args.series_dir)
    meta = {"series_dir": str(args.series_dir), "profile": args.profile,
            "series": [p.name for p in patches], "series_sha256": series.series_digest(patches),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"), "gate_args": _gate_args(args)}
    log.info("mutants: %d to run, %d not run (other profile); results in %s", len(todo),
             len(skipped), run_dir)
    scores: list[Score] = []
    for i, m in enumerate(todo, 1):
        label = f"mutant {i}/{len(todo)} {m.name}"
        work = run_dir / m.name
        t0 = time.monotonic()
        log.info("%s: %s -- expect %s", label, m.rule, m.expect)
        try:
            sdir = mutant_series(work / "series", args.series_dir, m)
            k = trial.build_variant(sdir, args.profile)
            log.info("%s: built in %.0f s; running the gate (fail-fast)", label,
                     time.monotonic() - t0)
            t = trial.run_gate(k.bzimage, work, label=label, profile=args.profile,
                               kexpr=args.kexpr, first=m.expected_tests,
                               gate_args=_gate_args(args))
            s = judge(m, t)
        except GateError as e:
            s = Score(m.name, m.family, m.expect, "error", detail=e.message)
        s.seconds = time.monotonic() - t0
        scores.append(s)
        log.info("%s: %s%s (%.0f s)", label, STATUS_WORD[s.status].strip("*"),
                 f" by {s.caught_by}" if s.caught_by else f": {s.detail}", s.seconds)
        write_scores(run_dir, scores + skipped, meta)
    table = render_table(scores + skipped)
    print(table, end="")
    log.info("mutants: score table %s, JSON %s", run_dir / "score.md", run_dir / "score.json")
    return exit_code(scores)
