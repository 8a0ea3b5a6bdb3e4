"""Where the suite keeps what must survive the guest: the gate's run directory.

The gate exports ``NLMMAP_RUN_DIR`` (shared read-write with the host; the guest's /tmp is
lost at power-off and its repository is read-only). Outside the gate there is none and
results go to the temporary directory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ENV = "NLMMAP_RUN_DIR"


def results_dir() -> str:
    """Reproducers and run summaries."""
    return os.environ.get(ENV) or tempfile.gettempdir()


def hypothesis_home() -> Path | None:
    """hypothesis' state directory in the gate (None: its default, ./.hypothesis)."""
    d = os.environ.get(ENV)
    return Path(d) / "hypothesis" if d else None
