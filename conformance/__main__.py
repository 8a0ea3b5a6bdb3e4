"""python -m conformance replay FILE [--backend model|kernel]
   python -m conformance smoke"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m conformance")
    sub = ap.add_subparsers(dest="cmd", required=True)
    rp = sub.add_parser("replay", help="re-run a recorded differential sequence")
    rp.add_argument("file")
    rp.add_argument("--backend", default=None,
                    help="model, kernel, kernel-only or mutant:NAME (default: the backend "
                         "recorded in the file)")
    rp.add_argument("-q", "--quiet", action="store_true")
    sub.add_parser("smoke", help="smoke test of the running kernel")
    a = ap.parse_args(argv)
    if a.cmd == "replay":
        from .replay import replay
        return replay(a.file, a.backend, verbose=not a.quiet)
    from .smoke import main as smoke
    return smoke()


if __name__ == "__main__":
    sys.exit(main())
