"""Differential testing: random operation sequences applied to the kernel and the model,
every result, errno, frame header, frame payload, poll mask, received message and
tracepoint decision compared after each step.

Two ways to run the same machine:
- in lockstep (``kernel`` backend = :class:`~conformance.backends.lockstep.Lockstep`):
  hypothesis draws each step, both backends run it. A failure is shrunk by hypothesis.
- from a plan (:func:`plan` here draws it on the model; conformance/plans.py runs it on
  the kernel): how the gate runs it, the drawing on the host before the boot.

Environment:
  NLMMAP_DIFF_STEPS      total steps wanted per run (default 10000 on the kernel, 600 for
                         the host-side model run)
  NLMMAP_DIFF_STEPS_PER  steps per hypothesis example (default 40)
  NLMMAP_DIFF_WORKERS    processes sharing the kernel run's steps (default: one per CPU)
  NLMMAP_DIFF_PLAN       a plan file (plans.save_plan) the kernel test executes instead
                         of drawing its own

A failure writes the backend calls up to it as an operation script (``script.py``;
``python -m conformance replay FILE [--backend model|kernel]``, ``python -m conformance
corpus add FILE``).
"""

from __future__ import annotations

import ast
import os
import random

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from .backends import make_backend
from .genl import DUMP_TYPE  # noqa: F401  (documents the dump message type compared)
from .helpers import SMALL  # RX rings where dump chunks fit (payload >= NLMSG_GOODSIZE)
from .plans import Example
from .replay import save
from .rundir import results_dir
from .script import SUFFIX, Recorder
from .uapi import (
    NETLINK_ROUTE,
    NL_MMAP_HDRLEN,
    NLM_F_ACK,
    NLM_F_REQUEST,
    NLMSG_NOOP,
    PAGE_SIZE,
    RingReq,
    nlmsg,
)
from .workers import Progress, Stopped, parallel, workers

TX0 = RingReq.simple(PAGE_SIZE, 2)
RX1 = RingReq(PAGE_SIZE, 2, PAGE_SIZE // 2, 4)  # small frames: dump chunks are COPY
SIZES = [0, 24, 100, 1000, 2000, 2008, 2012, 3000, 4052, 4056, 5000]
SHARING = st.sampled_from(["dup", "fork", "mmap", "thread"])


def _status_ok(st_: int) -> bool:
    return 0 <= st_ <= 4


class NetlinkMmapMachine(RuleBasedStateMachine):
    """Three GENERIC sockets: s0 RX(4 x 4096)+TX(2 x 4096), s1 RX(4 x 2048), s2 no ring;
    a portid whose socket was closed (destination lookup failure); and a ROUTE socket
    s3 RX(4 x 4096)+TX(2 x 4096) whose sharing (dup, second mmap, fork, thread) is
    toggled, so its ring sends report each exclusivity reason (R5.4 conditions, D2;
    every send copies, D16)."""

    backend_name = "model"
    progress: Progress  # set by run()
    repro_suffix = ""  # a worker's reproducer name (run_parallel keeps the first failure)
    stop = None  # run_parallel: an Event set when another worker has failed
    planning = False  # keep each sequence's calls in progress.plan (a model run)
    held = Bundle("held")  # test-driver messages allocated and not yet sent or freed

    def __init__(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise Stopped
        super().__init__()
        self.b = Recorder(make_backend(self.backend_name), observe=self.planning)
        self.steps = 0

    @initialize()
    def sockets_with_rings(self):
        b = self.b
        self.s = [b.socket(), b.socket(), b.socket()]
        gone = b.socket()
        b.close(gone)
        self.gone = gone
        self.route = b.socket(NETLINK_ROUTE)
        b.set_ring(self.s[0], False, SMALL)
        b.set_ring(self.s[0], True, TX0)
        b.set_ring(self.s[1], False, RX1)
        b.set_ring(self.route, False, SMALL)
        b.set_ring(self.route, True, TX0)
        self.map0 = b.mmap(self.s[0])
        b.mmap(self.s[1])
        b.mmap(self.route)
        self.rx = {self.s[0]: SMALL, self.s[1]: RX1, self.route: SMALL}
        self.tx_socks = [self.s[0], self.route]
        self.tx_idx = {sid: 0 for sid in self.tx_socks}
        self.ring_socks = [self.s[0], self.s[1], self.route]
        self.all_socks = [*self.s, self.route]
        self.rd = [0, 0, 0]  # reader index per ring socket
        self.seq = 0
        self.share: dict[str, int | None] = {"dup": None, "fork": None, "mmap": None,
                                             "thread": None}

    def _read(self, fn, *a):
        """A step that cannot fail with an errno (ring memory, identities): any exception
        propagates; a disagreement (AssertionError) is saved as a reproducer first."""
        try:
            return fn(*a)
        except AssertionError as e:
            path = save(self.b.steps, str(e), self.backend_name,
                        os.path.join(results_dir(), f"nlmmap-repro-{self.backend_name}{SUFFIX}"
                                     + self.repro_suffix))
            raise AssertionError(f"{e}\nreplayable sequence written to {path}") from None

    def _act(self, fn, *a):
        """A syscall or driver call. An errno is one of its outcomes: the lockstep backend
        has compared it with the model's before raising it, so here it is counted (and
        reported by run()) and the step goes on with None."""
        try:
            return self._read(fn, *a)
        except OSError as e:
            self.progress.errors[(getattr(fn, "__name__", "?"), e.errno)] += 1
            return None

    def _check(self, ok: bool, what) -> None:
        """An invariant of the machine, saved as a reproducer like a disagreement."""
        def fail():
            raise AssertionError(f"invariant broken: {what}")
        if not ok:
            self._read(fail)

    def _dst(self, i: int) -> int:
        return (self.s + [self.gone])[i]

    # kernel producers ----------------------------------------------------------------------
    @rule(target=held, dst=st.integers(0, 3), size=st.sampled_from(SIZES),
          then=st.sampled_from(["hold", "xmit", "free"]))
    def alloc(self, dst, size, then):
        """Allocate a driver message; hold it (sent or freed later by ``finish``, so
        frames are reserved out of order, R4.11) or send/free it at once (a held-only
        machine fills the rings with RESERVED frames and rarely delivers anything)."""
        h = self._act(self.b.drv_alloc, self._dst(dst), size)
        if h is None or then == "hold":
            return multiple() if h is None else h
        self._act(self.b.drv_xmit if then == "xmit" else self.b.drv_free, h)
        return multiple()

    @rule(h=consumes(held), free=st.booleans())
    def finish(self, h, free):
        self._act(self.b.drv_free if free else self.b.drv_xmit, h)

    @rule(dst=st.integers(0, 3), size=st.sampled_from(SIZES))
    def plain(self, dst, size):
        self._act(self.b.drv_plain, self._dst(dst), size)

    @rule(s=st.integers(0, 1), count=st.integers(1, 40),
          size=st.sampled_from([40, 300, 1500]))
    def dump(self, s, count, size):
        self.seq += 1
        self._act(self.b.send_dump, self.s[s], self.seq, count, size)

    # userspace on the RX rings --------------------------------------------------------------
    @rule(s=st.integers(0, 2), i=st.integers(0, 3),
          status=st.sampled_from([0, 0, 0, 4]))
    def set_rx_status(self, s, i, status):
        self._act(self.b.set_status, self.ring_socks[s], "rx", i, status)

    @rule(s=st.integers(0, 2), n=st.integers(1, 4))
    def reader(self, s, n):
        """An in-order reader: release up to n frames from its index on, then poll()
        (which continues a running dump, R6.1)."""
        sid = self.ring_socks[s]
        req = self.rx[sid]
        for _ in range(n):
            i = self.rd[s]
            st_ = self._read(self.b.frame, sid, "rx", i)
            if st_.status in (0, 1):
                break
            if st_.status == 3:
                self._act(self.b.recv, sid)
            self._act(self.b.set_status, sid, "rx", i, 0)
            self.rd[s] = (i + 1) % req.frame_nr
        self._act(self.b.poll, sid)

    @rule(s=st.integers(0, 3))
    def poll(self, s):
        self._act(self.b.poll, self.all_socks[s])

    @rule(s=st.integers(0, 3))
    def recv(self, s):
        self._act(self.b.recv, self.all_socks[s])

    @rule(s=st.integers(0, 3))
    def so_error(self, s):
        self._act(self.b.so_error, self.all_socks[s])

    # TX ring --------------------------------------------------------------------------------
    # a frame with nm_len beyond the payload (EINVAL, frame stays VALID until tx_repair)
    # is rare: it blocks the ring, and sends that do nothing decide nothing
    SEND = dict(n=st.integers(1, 2), ack=st.booleans(),
                bad=st.sampled_from([False, False, False, True]),
                dst=st.sampled_from([0, 0, 0, 2]))

    @rule(**SEND)
    def tx_send(self, n, ack, bad, dst):
        """GENERIC socket, never shared: reason exclusive or dst_not_kernel (D16)."""
        self._send(self.s[0], n, ack, bad, dst)

    @rule(**SEND)
    def route_send(self, n, ack, bad, dst):
        """ROUTE socket: the reason names its current sharing (R5.4 conditions, D2/D9),
        NOOP requests whose ACKs land in its own RX ring."""
        self._send(self.route, n, ack, bad, dst)

    def _send(self, s0, n, ack, bad, dst):
        written = []
        for k in range(n):
            i = (self.tx_idx[s0] + k) % TX0.frame_nr
            if self._read(self.b.frame, s0, "tx", i).status != 0:
                break
            self.seq += 1
            msg = nlmsg(NLMSG_NOOP, NLM_F_REQUEST | (NLM_F_ACK if ack else 0), self.seq)
            nm_len = TX0.frame_size - NL_MMAP_HDRLEN + 1 if bad and k == n - 1 else None
            self._act(self.b.put_tx, s0, i, msg, 2, nm_len)
            written.append(i)
        target = (0, 0) if dst == 0 else (self._read(self.b.portid, self.s[dst]), 0)
        self._act(self.b.send_ring, s0, target)
        for i in written:
            if self._read(self.b.frame, s0, "tx", i).status != 0:
                break
            self.tx_idx[s0] = (self.tx_idx[s0] + 1) % TX0.frame_nr

    @rule(t=st.integers(0, 1))
    def tx_repair(self, t):
        s0 = self.tx_socks[t]
        if self._read(self.b.frame, s0, "tx", self.tx_idx[s0]).status == 2:
            self._act(self.b.set_len, s0, "tx", self.tx_idx[s0], 16)

    @rule(kind=SHARING)
    def toggle_sharing(self, kind):
        tok = self.share[kind]
        b = self.b
        if tok is None:
            make = {"dup": lambda: b.dup(self.route), "fork": b.fork_hold,
                    "mmap": lambda: b.mmap(self.route), "thread": b.thread_start}[kind]
            self.share[kind] = self._act(make)
        else:
            undo = {"dup": b.close_fd, "fork": b.fork_release, "mmap": b.munmap,
                    "thread": b.thread_stop}[kind]
            self._act(undo, tok)
            self.share[kind] = None

    @rule(kind=SHARING, n=st.integers(1, 2), ack=st.booleans())
    def shared_route_send(self, kind, n, ack):
        """A ROUTE ring send to the kernel while exactly this kind of sharing exists
        (made for the send if it does not exist yet): each exclusivity condition of R5.4
        on its own, which random toggling alone reaches rarely (a second mapping, the
        most frequent, masks the others)."""
        made = self.share[kind] is None
        if made:
            self.toggle_sharing(kind)
        self._send(self.route, n, ack, False, 0)
        if made:
            self.toggle_sharing(kind)

    # observables after every step --------------------------------------------------------------
    @invariant()
    def frames_agree(self):
        self.steps += 1
        for sid, req in self.rx.items():
            for i, h in enumerate(self._read(self.b.frames, sid, "rx")):
                self._check(_status_ok(h.status), (sid, i, h))
                if h.status == 2:
                    self._check(h.len <= req.frame_size - NL_MMAP_HDRLEN, (sid, i, h))
                    self._read(self.b.payload, sid, "rx", i, h.len)
        for sid in self.tx_socks:
            self._read(self.b.frames, sid, "tx")

    def teardown(self):
        self.b.close_all()
        if self.planning:
            self.progress.plan.append(Example(self.steps, self.b.steps))
        self.progress.count(self.steps, self.b.steps)


def run(backend_name: str, total_steps: int, steps_per: int,
        progress=None, shrink: bool = True,
        derandomize: bool = False) -> Progress:
    """Run the machine until about ``total_steps`` steps were executed; returns the run's
    :class:`Progress` (steps, recorded operations by name, errnos answered, examples).
    ``progress(line)`` is called every PROGRESS_EVERY seconds. One failure is reported (the
    first distinct one), shrunk unless ``shrink`` is False (host-side checks that only need
    the catch); ``derandomize`` fixes the sequences (host-side checks of the machine)."""
    done = Progress(progress)
    _run_into(done, _machine(backend_name, done), total_steps, steps_per, shrink, derandomize)
    return done


def _machine(backend_name: str, done: Progress, **attrs) -> type:
    return type(f"Machine_{backend_name.replace('-', '_')}",
                (NetlinkMmapMachine,), {"backend_name": backend_name, "progress": done, **attrs})


def _run_into(done: Progress, machine: type, total_steps: int, steps_per: int,
              shrink: bool = True, derandomize: bool = False) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    while done.steps < total_steps:
        remaining = total_steps - done.steps
        # hypothesis runs close to steps_per steps per example: ask for no more examples
        # than needed and loop (a first version overshot the target twofold)
        examples = max(1, remaining // max(1, steps_per))
        run_state_machine_as_test(machine, settings=settings(
            max_examples=examples, stateful_step_count=steps_per, deadline=None,
            database=None, derandomize=derandomize, print_blob=True, report_multiple_bugs=False,
            phases=[p for p in Phase if shrink or p is not Phase.shrink],
            # TCG makes every step slow; no other health check is expected to fire
            suppress_health_check=[HealthCheck.too_slow]))


def run_parallel(backend_name: str, total_steps: int, steps_per: int, progress=None,
                 n: int | None = None, shrink: bool = True, planning: bool = False) -> Progress:
    """:func:`run` split over ``n`` forked processes (default :func:`workers`), each with
    its share of the steps, its own hypothesis seed (drawn from this process' hypothesis
    random, so ``--nlmmap-seed`` still fixes the run), its own portids and trace buffer
    (:func:`~conformance.backends.prepare_worker`). The machine is single-threaded: on the
    guest's two vCPUs one process left one idle. Returns the summed :class:`Progress`
    (with ``planning``, the sequences' calls in ``plan``, in worker order); the session's
    rule tally gets the workers' counts. The first failure stops the other workers and is
    raised here with its reproducer under the name :func:`run` gives it."""
    n = n or workers()
    if n == 1:
        done = Progress(progress)
        _run_into(done, _machine(backend_name, done, planning=planning), total_steps,
                  steps_per, shrink)
        return done
    from hypothesis import core

    if core.threadlocal._hypothesis_global_random is None:
        core.threadlocal._hypothesis_global_random = random.Random()
    seeds = [core.threadlocal._hypothesis_global_random.getrandbits(128) for _ in range(n)]

    def draw(done: Progress, k: int, stop) -> None:
        core.threadlocal._hypothesis_global_random = random.Random(seeds[k])
        share = total_steps // n + (1 if k < total_steps % n else 0)
        _run_into(done, _machine(backend_name, done, repro_suffix=f".{k}", stop=stop,
                                 planning=planning), share, steps_per, shrink)

    return parallel(draw, n, backend_name, progress)


def plan(total_steps: int, steps_per: int, seed: int, progress=None,
         n: int | None = None) -> Progress:
    """Draw ``total_steps`` steps of the machine on the model alone (``n`` processes);
    the sequences are in the result's ``plan``. The same seed draws the same plan."""
    from hypothesis import core

    core.threadlocal._hypothesis_global_random = random.Random(seed)
    return run_parallel("model", total_steps, steps_per, progress, n, planning=True)


def machine_operations() -> set[str]:
    """The recorded backend operations the machine's rules can call (read from its
    source): a run that never reaches one of them has lost part of its power."""
    from .script import SIGNATURES

    tree = ast.parse(open(__file__).read())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef)
               and n.name == NetlinkMmapMachine.__name__)
    names = {n.attr for n in ast.walk(cls) if isinstance(n, ast.Attribute)
             and (isinstance(n.value, ast.Name) and n.value.id == "b"
                  or isinstance(n.value, ast.Attribute) and n.value.attr == "b")}
    return names & set(SIGNATURES)
