"""python -m conformance replay FILE [--backend model|kernel|mutant:NAME]
   python -m conformance corpus add REPRO [--name NAME]
   python -m conformance plan OUT --steps N --seed S
   python -m conformance execute PLAN --result FILE [--backend NAME]
   python -m conformance smoke"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m conformance")
    sub = ap.add_subparsers(dest="cmd", required=True)
    rp = sub.add_parser("replay", help="re-run an operation script (a reproducer, a "
                                       "scenario or corpus script), checking its results")
    rp.add_argument("file")
    rp.add_argument("--backend", default=None,
                    help="model, kernel, kernel-only or mutant:NAME (default: the backend "
                         "recorded in the file, else model)")
    rp.add_argument("-q", "--quiet", action="store_true")
    cp = sub.add_parser("corpus", help="the regression corpus (conformance/corpus/)")
    csub = cp.add_subparsers(dest="corpus_cmd", required=True)
    ca = csub.add_parser("add", help="add a reproducer (script or old JSON) to the corpus, "
                                     "with the model's results")
    ca.add_argument("repro")
    ca.add_argument("--name", default=None,
                    help="file name in the corpus (default: the reproducer's)")
    pp = sub.add_parser("plan", help="draw the differential run's sequences on the model "
                                     "into a plan file (the kernel test runs it when "
                                     "NLMMAP_DIFF_PLAN names it)")
    pp.add_argument("out")
    pp.add_argument("--steps", type=int, required=True)
    pp.add_argument("--per", type=int, default=40, help="steps per sequence")
    pp.add_argument("--seed", type=int, required=True)
    ep = sub.add_parser("execute", help="run a plan on the kernel beside the suite (own "
                                        "netns, SCHED_IDLE), the outcome as JSON")
    ep.add_argument("plan")
    ep.add_argument("--result", required=True)
    ep.add_argument("--backend", default="kernel-only",
                    help="what runs the plan: kernel-only (default), model, mutant:NAME")
    sub.add_parser("smoke", help="smoke test of the running kernel")
    a = ap.parse_args(argv)
    if a.cmd == "execute":
        from .plans import run_beside
        return run_beside(a.plan, a.result, a.backend)
    if a.cmd == "plan":
        from .differential import plan
        from .plans import save_plan
        p = plan(a.steps, a.per, a.seed)
        save_plan(a.out, p.plan, a.seed)
        print(f"plan: {p.steps} steps in {p.examples} sequences, "
              f"{sum(len(e.calls) for e in p.plan)} calls, {p.seconds:.1f} s, seed {a.seed}")
        return 0
    if a.cmd == "replay":
        from .replay import replay
        return replay(a.file, a.backend, verbose=not a.quiet)
    if a.cmd == "corpus":
        from .replay import add_to_corpus
        try:
            out = add_to_corpus(a.repro, a.name)
        except FileExistsError as e:
            print(f"corpus add: {e}", file=sys.stderr)
            return 2
        print(f"added {out}")
        return 0
    from .smoke import main as smoke
    return smoke()


if __name__ == "__main__":
    sys.exit(main())
