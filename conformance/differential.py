"""Differential testing: random operation sequences applied to the kernel and the model
in lockstep (``kernel`` backend = :class:`~conformance.backends.lockstep.Lockstep`), every
result, errno, frame header, frame payload, poll mask, received message and tracepoint
decision compared after each step.

Environment:
  NLMMAP_DIFF_STEPS      total steps wanted per run (default 10000 on the kernel, 600 for
                         the host-side model run)
  NLMMAP_DIFF_STEPS_PER  steps per hypothesis example (default 40)

A failure prints hypothesis' shrunk sequence and writes the backend calls of the shrunk
run as JSON (``python -m conformance replay FILE [--backend model|kernel]``).
"""

from __future__ import annotations

import ast
import os
import time
from collections import Counter

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from .backends import make_backend
from .genl import DUMP_TYPE  # noqa: F401  (documents the dump message type compared)
from .helpers import SMALL  # RX rings where dump chunks fit (payload >= NLMSG_GOODSIZE)
from .replay import Recorder, save
from .rundir import results_dir
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

TX0 = RingReq.simple(PAGE_SIZE, 2)
RX1 = RingReq(PAGE_SIZE, 2, PAGE_SIZE // 2, 4)  # small frames: dump chunks are COPY
SIZES = [0, 24, 100, 1000, 2000, 2008, 2012, 3000, 4052, 4056, 5000]
SHARING = st.sampled_from(["dup", "fork", "mmap", "thread"])


PROGRESS_EVERY = 20.0  # seconds between progress lines (the gate kills a silent guest)


class Stats:
    steps = 0  # hypothesis steps (rules executed)
    ops: Counter = Counter()  # backend calls by operation (each compared on the kernel)
    examples = 0
    started = 0.0
    progress = None  # callable(str) or None
    last_report = 0.0

    @classmethod
    def tick(cls) -> None:
        now = time.monotonic()
        if cls.progress and now - cls.last_report >= PROGRESS_EVERY:
            cls.last_report = now
            cls.progress(f"differential: {cls.steps} steps, {cls.examples} sequences, "
                         f"{now - cls.started:.0f} s")


def _status_ok(st_: int) -> bool:
    return 0 <= st_ <= 4


class NetlinkMmapMachine(RuleBasedStateMachine):
    """Three GENERIC sockets: s0 RX(4 x 4096)+TX(2 x 4096), s1 RX(4 x 2048), s2 no ring;
    a portid whose socket was closed (destination lookup failure); and a ROUTE socket
    s3 RX(4 x 4096)+TX(2 x 4096) whose sharing (dup, second mmap, fork, thread) is
    toggled, so its ring sends report each exclusivity reason (R5.4 conditions, D2;
    every send copies, D16)."""

    backend_name = "model"

    def __init__(self) -> None:
        super().__init__()
        Stats.examples += 1
        self.b = Recorder(make_backend(self.backend_name))
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
        self.held: list[int] = []
        self.tx_idx = {sid: 0 for sid in self.tx_socks}
        self.ring_socks = [self.s[0], self.s[1], self.route]
        self.all_socks = [*self.s, self.route]
        self.rd = [0, 0, 0]  # reader index per ring socket
        self.seq = 0
        self.share: dict[str, int | None] = {"dup": None, "fork": None, "mmap": None,
                                             "thread": None}

    def _guard(self, fn, *a):
        try:
            return fn(*a)
        except OSError:
            return None
        except AssertionError as e:
            path = save(self.b.ops, str(e), self.backend_name,
                        os.path.join(results_dir(), f"nlmmap-repro-{self.backend_name}.json"))
            raise AssertionError(f"{e}\nreplayable sequence written to {path}") from None

    def _dst(self, i: int) -> int:
        return (self.s + [self.gone])[i]

    # kernel producers ----------------------------------------------------------------------
    @rule(dst=st.integers(0, 3), size=st.sampled_from(SIZES))
    def alloc(self, dst, size):
        h = self._guard(self.b.drv_alloc, self._dst(dst), size)
        if h is not None:
            self.held.append(h)

    @precondition(lambda self: self.held)
    @rule(i=st.integers(0, 7), free=st.booleans())
    def finish(self, i, free):
        h = self.held.pop(i % len(self.held))
        self._guard(self.b.drv_free if free else self.b.drv_xmit, h)

    @rule(dst=st.integers(0, 3), size=st.sampled_from(SIZES))
    def plain(self, dst, size):
        self._guard(self.b.drv_plain, self._dst(dst), size)

    @rule(s=st.integers(0, 1), count=st.integers(1, 40),
          size=st.sampled_from([40, 300, 1500]))
    def dump(self, s, count, size):
        self.seq += 1
        sid = self.s[s]
        self._guard(self.b.send, sid, self.b.dump_request(sid, self.seq, count, size))

    # userspace on the RX rings --------------------------------------------------------------
    @rule(s=st.integers(0, 2), i=st.integers(0, 3),
          status=st.sampled_from([0, 0, 0, 4]))
    def set_rx_status(self, s, i, status):
        self._guard(self.b.set_status, self.ring_socks[s], "rx", i, status)

    @rule(s=st.integers(0, 2), n=st.integers(1, 4))
    def reader(self, s, n):
        """An in-order reader: release up to n frames from its index on, then poll()
        (which continues a running dump, R6.1)."""
        sid = self.ring_socks[s]
        req = self.rx[sid]
        for _ in range(n):
            i = self.rd[s]
            st_ = self._guard(self.b.frame, sid, "rx", i)
            if st_ is None or st_.status in (0, 1):
                break
            if st_.status == 3:
                self._guard(self.b.recv, sid)
            self._guard(self.b.set_status, sid, "rx", i, 0)
            self.rd[s] = (i + 1) % req.frame_nr
        self._guard(self.b.poll, sid)

    @rule(s=st.integers(0, 3))
    def poll(self, s):
        self._guard(self.b.poll, self.all_socks[s])

    @rule(s=st.integers(0, 3))
    def recv(self, s):
        self._guard(self.b.recv, self.all_socks[s])

    @rule(s=st.integers(0, 3))
    def so_error(self, s):
        self._guard(self.b.so_error, self.all_socks[s])

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
            if self.b.frame(s0, "tx", i).status != 0:
                break
            self.seq += 1
            msg = nlmsg(NLMSG_NOOP, NLM_F_REQUEST | (NLM_F_ACK if ack else 0), self.seq)
            nm_len = TX0.frame_size - NL_MMAP_HDRLEN + 1 if bad and k == n - 1 else None
            self._guard(self.b.put_tx, s0, i, msg, 2, nm_len)
            written.append(i)
        target = (0, 0) if dst == 0 else (self.b.portid(self.s[dst]), 0)
        self._guard(self.b.send_ring, s0, target)
        for i in written:
            if self.b.frame(s0, "tx", i).status != 0:
                break
            self.tx_idx[s0] = (self.tx_idx[s0] + 1) % TX0.frame_nr

    @rule(t=st.integers(0, 1))
    def tx_repair(self, t):
        s0 = self.tx_socks[t]
        if self.b.frame(s0, "tx", self.tx_idx[s0]).status == 2:
            self._guard(self.b.set_len, s0, "tx", self.tx_idx[s0], 16)

    @rule(kind=SHARING)
    def toggle_sharing(self, kind):
        tok = self.share[kind]
        b = self.b
        if tok is None:
            make = {"dup": lambda: b.dup(self.route), "fork": b.fork_hold,
                    "mmap": lambda: b.mmap(self.route), "thread": b.thread_start}[kind]
            self.share[kind] = self._guard(make)
        else:
            undo = {"dup": b.close_fd, "fork": b.fork_release, "mmap": b.munmap,
                    "thread": b.thread_stop}[kind]
            self._guard(undo, tok)
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
        Stats.steps += 1
        for sid, req in self.rx.items():
            for i in range(req.frame_nr):
                h = self._guard(self.b.frame, sid, "rx", i)
                assert h is not None and _status_ok(h.status), (sid, i, h)
                if h.status == 2:
                    assert h.len <= req.frame_size - NL_MMAP_HDRLEN, (sid, i, h)
                    self._guard(self.b.payload, sid, "rx", i, h.len)
        for sid in self.tx_socks:
            for i in range(TX0.frame_nr):
                self._guard(self.b.frame, sid, "tx", i)

    def teardown(self):
        Stats.ops.update(op for op, _args in self.b.ops)
        self.b.close_all()
        Stats.tick()


def run(backend_name: str, total_steps: int, steps_per: int,
        progress=None, shrink: bool = True,
        derandomize: bool = False) -> tuple[int, Counter, int, float]:
    """Run the machine until about ``total_steps`` steps were executed. Returns (steps,
    recorded backend operations by name, examples, seconds). ``progress(line)`` is called
    every PROGRESS_EVERY seconds. One failure is reported (the first distinct one), shrunk
    unless ``shrink`` is False (host-side checks that only need the catch); ``derandomize``
    fixes the sequences (host-side checks of the machine itself)."""
    from hypothesis.stateful import run_state_machine_as_test

    machine = type(f"Machine_{backend_name.replace('-', '_')}", (NetlinkMmapMachine,),
                   {"backend_name": backend_name})
    Stats.steps = Stats.examples = 0
    Stats.ops = Counter()
    Stats.started = Stats.last_report = time.monotonic()
    Stats.progress = progress
    while Stats.steps < total_steps:
        remaining = total_steps - Stats.steps
        # hypothesis runs close to steps_per steps per example: ask for no more examples
        # than needed and loop (a first version overshot the target twofold)
        examples = max(1, remaining // max(1, steps_per))
        run_state_machine_as_test(machine, settings=settings(
            max_examples=examples, stateful_step_count=steps_per, deadline=None,
            database=None, derandomize=derandomize, print_blob=True, report_multiple_bugs=False,
            phases=[p for p in Phase if shrink or p is not Phase.shrink],
            suppress_health_check=list(HealthCheck)))
    return Stats.steps, Stats.ops, Stats.examples, time.monotonic() - Stats.started


def machine_operations() -> set[str]:
    """The recorded backend operations the machine's rules can call (read from its
    source): a run that never reaches one of them has lost part of its power."""
    from .replay import RECORDED

    tree = ast.parse(open(__file__).read())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef)
               and n.name == NetlinkMmapMachine.__name__)
    names = {n.attr for n in ast.walk(cls) if isinstance(n, ast.Attribute)
             and (isinstance(n.value, ast.Name) and n.value.id == "b"
                  or isinstance(n.value, ast.Attribute) and n.value.attr == "b")}
    return names & RECORDED
