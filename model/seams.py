"""The model's replaceable decisions.

A mutant (conformance/backends/mutant.py) is the model with one rule changed the way a
faulty patch would change it. It is built as ``World(seams=Seams(...))`` with one of these
functions replaced, so the model is never patched in place and two worlds, one mutated,
can run side by side (as they do in lockstep)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import dump, tx


@dataclass(frozen=True)
class Seams:
    exclusivity: Callable = tx.exclusivity  # D2/D9: the TX tracepoint's reason
    ring_send: Callable = tx.ring_send  # R5.2/R5.3: the ring send loop
    dump_space: Callable = dump.space  # R6.2 (D3): may poll continue a dump
