"""``python -m spec render`` prints spec/RULES.md; ``python -m spec show ID`` one entry."""

from __future__ import annotations

import argparse
import sys

from . import rule
from .render import render


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m spec", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("render", help="print spec/RULES.md")
    show = sub.add_parser("show", help="print one rule, decision or model assumption")
    show.add_argument("id")
    args = p.parse_args(argv)
    if args.cmd == "render":
        sys.stdout.write(render())
        return 0
    try:
        e = rule(args.id)
    except KeyError as err:
        p.error(str(err.args[0]))
    print(f"{e.id} {e.title}\n{e.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
