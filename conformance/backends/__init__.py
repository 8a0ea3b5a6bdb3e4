"""Backends of the conformance suite: ``model`` (the executable model, runs anywhere) and
``kernel`` (the running kernel, checked in lockstep against the model)."""

from __future__ import annotations

from .base import Backend, Event, next_port_base, port_window, stride_port_bases


def make_backend(name: str) -> Backend:
    """``model``: the model alone. ``kernel``: the kernel in lockstep with the model (every
    result and tracepoint decision compared). ``kernel-only``: the kernel unchecked.
    ``model+model``: the model in lockstep with itself, counted into the session's rule
    tally as ``kernel`` is (conformance/coverage.py ``--scenarios``)."""
    from ..coverage import RAN, SELF_LOCKSTEP
    from .model import ModelBackend

    if name == "model":
        return ModelBackend()
    if name == SELF_LOCKSTEP:
        from .lockstep import Lockstep
        base = next_port_base()
        return Lockstep(ModelBackend(port_base=base), ModelBackend(port_base=base), tally=RAN)
    if name.startswith("mutant:"):  # a broken model playing the kernel (see mutant.py)
        from .lockstep import Lockstep
        from .mutant import MutantBackend
        base = next_port_base()
        return Lockstep(MutantBackend(name.split(":", 1)[1], port_base=base),
                        ModelBackend(port_base=base))
    from .kernel import KernelBackend
    from .lockstep import Lockstep

    base = next_port_base()
    if name == "kernel-only":
        return KernelBackend(port_base=base)
    if name == "kernel":
        k = KernelBackend(port_base=base)
        return Lockstep(k, ModelBackend(port_base=base, drv_family=k.drv.family), tally=RAN)
    raise ValueError(f"unknown backend {name!r} (model, kernel, kernel-only, "
                     f"{SELF_LOCKSTEP}, mutant:NAME)")


def prepare_worker(k: int, n: int) -> None:
    """Make this process, worker ``k`` of ``n`` forked from one (differential.run_parallel),
    independent of the others: its own portids, and its own tracefs buffer for the kernel
    backend (one shared trace_pipe would hand a worker the others' events and take its
    own away), filtered to this process' portids if it has a window (confine_ports)."""
    from ..genl import Tracer

    stride_port_bases(k, n)
    Tracer.use_instance(f"nlmmap-worker{k}", port_window())


__all__ = ["Backend", "Event", "make_backend", "prepare_worker"]
