"""The kernel series: read ``patches/series``, apply it, detect whether it is applied.

Patches are applied with GNU ``patch -p1`` (works on trees with or without git, and is
not confused by the Debian tarball's ``.gitignore``).  Each patch is dry-run first so a
patch that does not apply leaves the tree untouched and the error names the patch, the
file and the failing hunk.

Detecting an already-applied series in a developer's tree is done on a scratch copy of
only the files the series touches: reverse-apply N..1 there; if that works the series is
applied.  A partially applied series (prefix 1..k) is detected the same way.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import GateError, NoSeries, PatchDoesNotApply

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Patch:
    name: str
    path: Path
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def files(self) -> list[str]:
        """Paths (relative to the tree root) this patch touches."""
        out: list[str] = []
        for line in self.data.decode("utf-8", "replace").splitlines():
            for prefix in ("--- ", "+++ "):
                if line.startswith(prefix):
                    p = line[len(prefix):].split("\t")[0].strip()
                    if p == "/dev/null" or "/" not in p:
                        continue
                    rel = p.split("/", 1)[1]
                    if rel not in out:
                        out.append(rel)
        return out


def check_base(series_dir: Path, version: str) -> bool:
    """Whether ``version`` (e.g. "linux-source-6.12 6.12.118-1~deb12u1") is the base the
    series records in ``series_dir/BASE``. Debian moves linux-source-6.12 to new point
    releases; the series may still apply, but then it is untested there: say so."""
    f = series_dir / "BASE"
    base = f.read_text().strip() if f.exists() else ""
    if not base or base == version:
        return True
    log.warning("series: made on %s (%s), applied to %s: once the gate passes there, "
                "record the new base in that file", base, f, version)
    return False


def read_series(series_dir: Path, *, required: bool = True) -> list[Patch]:
    """The patches named by ``series_dir/series``, in order.

    Raises :class:`NoSeries` if there is no series (and ``required``), and a
    :class:`GateError` if the series names a file that does not exist.
    """
    series = series_dir / "series"
    names: list[str] = []
    if series.exists():
        for raw in series.read_text().splitlines():
            line = raw.split("#", 1)[0].strip()
            if line:
                names.append(line.split()[0])
    if not names:
        if required:
            why = "is missing" if not series.exists() else "lists no patch"
            raise NoSeries(
                f"no kernel series yet: {series} {why}; the gate would only test the "
                "unpatched kernel, so it refuses to pass",
                "patches/ (the series is being written; use `python -m vm build` or "
                "`python -m vm run` to work with the unpatched kernel)",
            )
        return []
    patches = []
    for name in names:
        path = series_dir / name
        if not path.is_file():
            raise GateError(
                f"patches/series names {name} but {path} does not exist (partial series?)",
                str(series),
            )
        patches.append(Patch(name, path, path.read_bytes()))
    listed = set(names)
    for extra in sorted(series_dir.glob("*.patch")):
        if extra.name not in listed:
            log.warning("series: %s is not listed in %s and is ignored", extra.name, series)
    return patches


def series_digest(patches: list[Patch]) -> str:
    h = hashlib.sha256()
    for p in patches:
        h.update(p.name.encode() + b"\0" + p.data + b"\0")
    return h.hexdigest()


def patch_command(tree: Path, *, reverse: bool = False, dry_run: bool = False) -> list[str]:
    """GNU patch reading the patch on stdin."""
    cmd = ["patch", "-p1", "-f", "-F0", "--no-backup-if-mismatch", "-r", "-", "-d", str(tree)]
    if reverse:
        cmd.append("-R")
    if dry_run:
        cmd.append("--dry-run")
    return cmd


def _patch(tree: Path, patch: Patch, *, reverse: bool = False, dry_run: bool = False):
    return subprocess.run(patch_command(tree, reverse=reverse, dry_run=dry_run),
                          input=patch.data, capture_output=True)


def describe_failure(output: str) -> str:
    """Turn GNU patch's output into 'FILE: hunk #N FAILED at L, ...'."""
    current = None
    failures: dict[str, list[str]] = {}
    order: list[str] = []
    for line in output.splitlines():
        m = re.match(r"(?:checking|patching) file '?([^']+?)'?$", line.strip())
        if m:
            current = m.group(1)
            continue
        m = re.match(r"Hunk #(\d+) FAILED at (\d+)", line.strip())
        if m and current:
            if current not in failures:
                failures[current] = []
                order.append(current)
            failures[current].append(f"hunk #{m.group(1)} FAILED at line {m.group(2)}")
            continue
        m = re.match(r"can't find file to patch", line.strip())
        if m:
            return "a file to patch does not exist" + (f" (after {current})" if current else "")
        if "No such file" in line or line.startswith("patch: ****"):
            return line.strip().removeprefix("patch: **** ")
        if "Reversed (or previously applied) patch detected" in line:
            return f"{current or 'a file'}: already applied (reversed patch detected)"
    if failures:
        return "; ".join(f"{f}: {', '.join(failures[f])}" for f in order)
    for line in output.splitlines():
        if line.strip():
            return line.strip()
    return "patch failed"


def _missing_file(patch: Patch, tree: Path) -> str | None:
    """First file the patch modifies (not creates) that the tree lacks."""
    text = patch.data.decode("utf-8", "replace").splitlines()
    for i, line in enumerate(text):
        if line.startswith("--- a/") and i + 1 < len(text) and text[i + 1].startswith("+++ "):
            rel = line[6:].split("\t")[0].strip()
            if not (tree / rel).exists():
                return rel
    return None


def apply(tree: Path, patches: list[Patch], *, first: int = 1, total: int | None = None,
          quiet: bool = False) -> None:
    """Apply ``patches`` in order; on the first that does not apply, raise naming it.

    ``first``/``total`` number the patches in messages when applying part of a series."""
    total = total or len(patches) + first - 1
    for i, p in enumerate(patches, first):
        dry = _patch(tree, p, dry_run=True)
        if dry.returncode != 0:
            out = (dry.stdout + dry.stderr).decode("utf-8", "replace")
            missing = _missing_file(p, tree)
            detail = f"{missing}: file to patch does not exist" if missing else \
                describe_failure(out)
            raise PatchDoesNotApply(
                f"patch {i}/{total} {p.name} does not apply to {tree}: {detail}",
                f"patch -p1 -F0 --dry-run -d {tree} < {p.path}",
            )
        real = _patch(tree, p)
        if real.returncode != 0:  # dry run passed, so this is unexpected
            raise PatchDoesNotApply(f"patch {p.name} failed after a clean dry run in {tree}")
        if not quiet:
            log.info("series: applied %s", p.name)


def reverse(tree: Path, patches: list[Patch]) -> bool:
    """Reverse-apply ``patches`` (given in application order); False if any fails."""
    for p in reversed(patches):
        if _patch(tree, p, reverse=True, dry_run=True).returncode != 0:
            return False
        if _patch(tree, p, reverse=True).returncode != 0:
            return False
    return True


def _scratch(tree: Path, patches: list[Patch]) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="nlmmap-series-"))
    for p in patches:
        for rel in p.files():
            src = tree / rel
            if src.is_file():
                dst = tmp / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
    return tmp


def _sequence_ok(tree: Path, patches: list[Patch], *, reverse_: bool) -> bool:
    seq = list(reversed(patches)) if reverse_ else patches
    for p in seq:
        if _patch(tree, p, reverse=reverse_).returncode != 0:
            return False
    return True


def applied_prefix(tree: Path, patches: list[Patch]) -> int | None:
    """How many leading patches of the series are already applied to ``tree``.

    Returns k such that reversing patches k..1 and then applying 1..N both work on a
    scratch copy (0 = nothing applied, N = fully applied), or None if the tree matches no
    prefix of the series (some patch does not apply either way).  The tree is not touched.
    """
    n = len(patches)
    for k in range(n, -1, -1):
        tmp = _scratch(tree, patches)
        try:
            if not _sequence_ok(tmp, patches[:k], reverse_=True):
                continue
            # tmp is now the pre-series state: the remaining patches must apply on top
            # of 1..k, so re-apply the prefix and then the rest.
            if _sequence_ok(tmp, patches, reverse_=False):
                return k
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return None


def ensure_applied(tree: Path, patches: list[Patch]) -> list[str]:
    """For a developer's tree: apply only what is not applied yet; say what is done.

    Returns a list of human-readable actions (empty if the tree already had the series).
    """
    if not patches:
        return []
    k = applied_prefix(tree, patches)
    if k is None:
        # Name the first patch that does not apply on top of what is there.
        tmp = _scratch(tree, patches)
        try:
            apply(tmp, patches, quiet=True)  # scratch copy: only to name the failing patch
        except PatchDoesNotApply as e:
            raise PatchDoesNotApply(e.message.replace(str(tmp), str(tree)),
                                    f"{tree} (neither applied nor applicable; "
                                    "is it another base version?)") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        raise PatchDoesNotApply(f"the series is partly applied to {tree} in an order that "
                                "matches no prefix of patches/series", str(tree))
    if k == len(patches):
        log.info("series: all %d patches already applied in %s; not touching it", k, tree)
        return []
    todo = patches[k:]
    log.warning("series: MODIFYING %s: applying %d patch(es) %s (%d already applied)",
                tree, len(todo), ", ".join(p.name for p in todo), k)
    apply(tree, todo, first=k + 1, total=len(patches))
    return [f"applied {p.name} to {tree}" for p in todo]
