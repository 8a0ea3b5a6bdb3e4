"""Kconfig fragments: parse, merge into a .config, verify after olddefconfig.

A fragment line is either ``CONFIG_FOO=value`` or ``# CONFIG_FOO is not set``.  We keep
``None`` for "not set".  After ``make olddefconfig`` every requested option must have the
requested value; an option requested ``=y`` that ends up unset (unmet dependency, typo,
option that the series was supposed to add) is a *dropped* option and fails the build
step.  An option requested "not set" that is absent from the final config is fine.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_SET = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set$")


def parse(text: str) -> dict[str, str | None]:
    """Parse .config / fragment text into {name: value or None (not set)}."""
    out: dict[str, str | None] = {}
    for raw in text.splitlines():
        line = raw.strip()
        m = _SET.match(line)
        if m:
            out[m.group(1)] = m.group(2)
            continue
        m = _UNSET.match(line)
        if m:
            out[m.group(1)] = None
    return out


@dataclass(frozen=True)
class Request:
    name: str
    value: str | None
    source: str  # the fragment that asked for it

    def render(self) -> str:
        return f"# {self.name} is not set" if self.value is None else f"{self.name}={self.value}"


def merge_requests(fragments: list[tuple[str, str]]) -> dict[str, Request]:
    """Merge fragments (label, text) in order; later fragments override earlier ones."""
    merged: dict[str, Request] = {}
    for label, text in fragments:
        for name, value in parse(text).items():
            prev = merged.get(name)
            if prev is not None and prev.value != value:
                log.info("config: %s overrides %s=%s from %s with %s",
                         label, name, prev.value, prev.source, value)
            merged[name] = Request(name, value, label)
    return merged


def apply_requests(config_text: str, requests: dict[str, Request]) -> str:
    """Return ``config_text`` with every requested option set (replacing existing lines)."""
    lines = config_text.splitlines()
    out = []
    for line in lines:
        s = line.strip()
        m = _SET.match(s) or _UNSET.match(s)
        if m and m.group(1) in requests:
            continue
        out.append(line)
    out.append("# --- nlmmap-gate requests ---")
    out.extend(r.render() for r in requests.values())
    return "\n".join(out) + "\n"


def _norm(v: str | None) -> str | None:
    # "n" is how some fragments spell "not set".
    return None if v in (None, "n") else v


def verify(requests: dict[str, Request], final_text: str) -> list[str]:
    """Problems (one line each) for requested options the final .config does not honour."""
    final = parse(final_text)
    problems = []
    for r in requests.values():
        want = _norm(r.value)
        have = _norm(final.get(r.name))
        if want == have:
            continue
        if want is not None and have is None:
            problems.append(
                f"{r.name}={r.value} (from {r.source}) was dropped: not set after "
                "olddefconfig (unmet dependency or unknown option)"
            )
        else:
            got = f"{r.name}={have}" if have is not None else "it not set"
            problems.append(
                f"{r.render()} (from {r.source}) was overridden by olddefconfig: "
                f"final config has {got}"
            )
    return problems


def fragment_files(profile: str, series_dir: Path, configs_dir: Path) -> list[Path]:
    """Fragments in merge order: guest, test-infra, the series' *.config, the profile's
    own fragment (``<profile>.config``, required for every profile but fast)."""
    files = [configs_dir / "guest.config", configs_dir / "test-infra.config"]
    files += sorted(series_dir.glob("*.config"))
    prof = configs_dir / f"{profile}.config"
    if prof.exists():
        files.append(prof)
    elif profile != "fast":
        from .errors import GateError
        raise GateError(f"unknown profile {profile!r}: {prof} does not exist")
    return files
