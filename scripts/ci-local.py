#!/usr/bin/env python3
"""Run .github/workflows/gate.yml's steps on this machine, in order, without GitHub.

Jobs run in ``needs`` order, each matrix combination one after another (``--profile``
keeps some profiles, ``--shards N`` sets SHARDS and the shard list to 1..N).  Every
``run:`` step is executed with bash (``-eo pipefail``) in one checkout of HEAD made with
``git clone`` (the runner's ``actions/checkout``), with the workflow's env plus
``--env K=V`` overrides, ``${{ matrix.* }}``, ``${{ env.* }}``, ``${{ github.run_id }}``
and ``${{ steps.ID.outputs.* }}`` (via $GITHUB_OUTPUT) substituted (a reused WORK is reset to
HEAD, its untracked files such as the tox envs kept).  The ``uses:`` steps
are emulated: checkout and cache do nothing (the clone is the checkout, the gate's own
cache is the machine's), upload/download-artifact copy to and from ``WORK/artifacts``.
``if:`` understands ``always()`` and ``matrix.K == V``.  Exit status: the last job's.

    scripts/ci-local.py --work /tmp/ci --profile fast --shards 2 \
        --env NLMMAP_CACHE=$HOME/.cache/nlmmap-gate
"""

from __future__ import annotations

import argparse
import glob
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "gate.yml"
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def order(jobs: dict) -> list[str]:
    done: list[str] = []
    while len(done) < len(jobs):
        for name, job in jobs.items():
            needs = job.get("needs", [])
            needs = [needs] if isinstance(needs, str) else needs
            if name not in done and all(n in done for n in needs):
                done.append(name)
    return done


def matrices(job: dict, profiles: list[str] | None, shards: int) -> list[dict]:
    m = dict(job.get("strategy", {}).get("matrix", {}) or {})
    if "shard" in m:
        m["shard"] = list(range(1, shards + 1))
    if profiles and "profile" in m:
        m["profile"] = [p for p in m["profile"] if p in profiles]
    keys = list(m)
    return [dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(m[k] for k in keys))]


class Context:
    def __init__(self, env: dict, matrix: dict, run_id: str):
        self.env, self.matrix, self.run_id = env, matrix, run_id
        self.outputs: dict[str, dict[str, str]] = {}

    def value(self, expr: str) -> str:
        if expr == "github.run_id":
            return self.run_id
        head, _, rest = expr.partition(".")
        if head == "matrix":
            return str(self.matrix[rest])
        if head == "env":
            return self.env[rest]
        if head == "steps":
            sid, _, name = rest.partition(".outputs.")
            return self.outputs.get(sid, {}).get(name, "")
        raise SystemExit(f"ci-local: unsupported expression ${{{{ {expr} }}}}")

    def sub(self, text: str) -> str:
        return EXPR.sub(lambda m: self.value(m.group(1)), str(text))

    def condition(self, cond: str | None, failed: bool) -> bool:
        if cond is None:
            return not failed
        cond = EXPR.sub(lambda m: m.group(1), str(cond)).strip()
        if cond == "always()":
            return True
        m = re.fullmatch(r"matrix\.(\w+)\s*==\s*'?([^']*)'?", cond)
        if m:
            return not failed and str(self.matrix[m.group(1)]) == m.group(2)
        raise SystemExit(f"ci-local: unsupported if: {cond}")


def uses(step: dict, ctx: Context, work: Path, checkout: Path) -> None:
    action = step["uses"].split("@")[0]
    if action in ("actions/checkout", "actions/cache"):
        print(f"    ({action}: nothing to do here)")
        return
    w = {k: ctx.sub(v) for k, v in step.get("with", {}).items()}
    store = work / "artifacts"
    if action == "actions/upload-artifact":
        dest = store / w["name"]
        shutil.rmtree(dest, ignore_errors=True)
        for src in (x.strip() for x in w["path"].splitlines() if x.strip()):
            src_path = (checkout / src) if not os.path.isabs(src) else Path(src)
            shutil.copytree(src_path, dest, dirs_exist_ok=True)
        print(f"    uploaded {w['path']} as {w['name']}")
    elif action == "actions/download-artifact":
        path = Path(w["path"]) if os.path.isabs(w["path"]) else checkout / w["path"]
        if "name" in w:
            shutil.copytree(store / w["name"], path, dirs_exist_ok=True)
        else:
            for d in sorted(glob.glob(str(store / w["pattern"]))):
                shutil.copytree(d, path / Path(d).name, dirs_exist_ok=True)
        print(f"    downloaded to {path}")
    else:
        raise SystemExit(f"ci-local: no emulation for {action}")


def run_job(name: str, job: dict, ctx: Context, work: Path, checkout: Path,
            needs_failed: bool) -> bool:
    """True if the job succeeded."""
    label = f"{name} {ctx.matrix}" if ctx.matrix else name
    if needs_failed and not ctx.condition(job.get("if"), True):
        print(f"== {label}: skipped (a job it needs failed)")
        return False
    failed = False
    t_job = time.monotonic()
    for i, step in enumerate(job["steps"], 1):
        title = step.get("name") or step.get("uses") or f"step {i}"
        if not ctx.condition(step.get("if"), failed):
            print(f"== {label} / {title}: skipped")
            continue
        t0 = time.monotonic()
        print(f"== {label} / {title}", flush=True)
        if "uses" in step:
            uses(step, ctx, work, checkout)
            continue
        env = {**os.environ, **ctx.env, **{k: ctx.sub(v) for k, v in
                                           step.get("env", {}).items()}}
        with tempfile.NamedTemporaryFile("r", dir=work, delete=False) as out:
            env["GITHUB_OUTPUT"] = out.name
            script = ctx.sub(step["run"])
            print("    $ " + script.strip().replace("\n", "\n    $ "), flush=True)
            rc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                                 script], cwd=checkout, env=env).returncode
            for line in Path(out.name).read_text().splitlines():
                k, _, v = line.partition("=")
                ctx.outputs.setdefault(step.get("id", ""), {})[k] = v
        print(f"    -> exit {rc} in {time.monotonic() - t0:.0f} s", flush=True)
        failed = failed or rc != 0
    print(f"== {label}: {'FAILED' if failed else 'ok'} in {time.monotonic() - t_job:.0f} s")
    return not failed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, required=True, help="checkout and artifacts go here")
    ap.add_argument("--profile", action="append", help="only these matrix profiles")
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--env", action="append", default=[], metavar="K=V")
    ap.add_argument("--run-id", default=str(int(time.time())))
    args = ap.parse_args()
    wf = yaml.safe_load(WORKFLOW.read_text())
    args.work.mkdir(parents=True, exist_ok=True)
    checkout = args.work / "checkout"
    if not checkout.exists():
        subprocess.run(["git", "clone", "-q", str(REPO), str(checkout)], check=True)
    else:  # HEAD of this repository again; untracked files (the tox envs) stay
        subprocess.run(["git", "-C", str(checkout), "fetch", "-q", str(REPO), "HEAD"],
                       check=True)
        subprocess.run(["git", "-C", str(checkout), "reset", "-q", "--hard", "FETCH_HEAD"],
                       check=True)
    env = {k: str(v) for k, v in wf.get("env", {}).items()}
    env["SHARDS"] = str(args.shards)
    env.update(dict(x.split("=", 1) for x in args.env))
    ok_jobs: dict[str, bool] = {}
    last = True
    for name in order(wf["jobs"]):
        job = wf["jobs"][name]
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        needs_failed = not all(ok_jobs.get(n, False) for n in needs)
        results = [run_job(name, job, Context(env, m, args.run_id), args.work, checkout,
                           needs_failed)
                   for m in matrices(job, args.profile, args.shards)]
        ok_jobs[name] = last = all(results)
    return 0 if last else 1


if __name__ == "__main__":
    sys.exit(main())
