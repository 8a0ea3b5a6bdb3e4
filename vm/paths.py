"""Where things live: the repo, the series, the config fragments, the cache."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PATCHES = REPO / "patches"
CONFIGS = Path(__file__).resolve().parent / "configs"


def cache_root() -> Path:
    """``$NLMMAP_CACHE`` or ``~/.cache/nlmmap-gate``."""
    env = os.environ.get("NLMMAP_CACHE")
    root = Path(env) if env else Path.home() / ".cache" / "nlmmap-gate"
    root.mkdir(parents=True, exist_ok=True)
    return root


def tool(name: str) -> str | None:
    """Find an executable next to the running interpreter (tox/venv) or on PATH."""
    local = Path(sys.executable).parent / name
    if local.exists() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


def tool_env() -> dict[str, str]:
    """os.environ with the interpreter's bin dir first on PATH (vng runs its helpers,
    e.g. virtme-configkernel, by name)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    return env
