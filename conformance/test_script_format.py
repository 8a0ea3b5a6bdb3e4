"""The text form of the operations (script.py): every declared operation has one, a
printed step parses back to itself, recorded runs replay on a fresh backend whatever
portids and driver handles it hands out, and a differing result names its line."""

from __future__ import annotations

import errno

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.outcome import Pattern

from . import script as S
from .backends.base import Sock, operations
from .backends.model import ModelBackend
from .helpers import SMALL, deliver, ring_socket
from .ring import FrameHdr
from .uapi import NETLINK_ROUTE, NETLINK_USERSOCK, RingReq, nlmsg


def test_every_declared_operation_has_a_text_form():
    assert set(S.SIGNATURES) == set(operations())


def test_a_parameter_type_without_a_text_form_is_refused():
    """A new operation whose annotation names a type script.py cannot write fails here
    (and SIGNATURES, built at import, fails every test that imports it)."""
    def op(self, s: Sock, x: complex) -> None: ...
    with pytest.raises(KeyError, match="complex"):
        S.signature(op)


def _patterns():
    """Bytes with unspecified ranges, zeros there (what the text keeps of them)."""
    def build(data, cuts):
        cuts = sorted({c % (len(data) + 1) for c in cuts})
        unknown = tuple((a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False) if b > a)
        blank = bytearray(data)
        for a, b in unknown:
            blank[a:b] = bytes(b - a)
        return Pattern(bytes(blank), unknown) if unknown else bytes(blank)
    return st.builds(build, st.binary(min_size=1, max_size=60),
                     st.lists(st.integers(0, 60), min_size=2, max_size=6))


U32 = st.integers(0, 2**32 - 1)


def values(c: S.Codec) -> st.SearchStrategy:
    """Symbolic values of a codec (every kind of codec must have a strategy here)."""
    kinds = {
        S.IntCodec: lambda: st.integers(-2**40, 2**40),
        S.BoolCodec: st.booleans,
        S.NamedInts: lambda: st.sampled_from(sorted(c.names)) | st.integers(0, 300),
        S.Flags: lambda: st.integers(0, 0xFFFF),
        S.Choice: lambda: st.sampled_from(list(c.words.values())),
        S.RefCodec: lambda: st.builds(S.Ref, st.just(c.kind), st.integers(0, 30)),
        S.PortCodec: lambda: st.builds(S.Port, values(S.RefCodec("s"))) | U32,
        S.DstCodec: lambda: st.tuples(values(c.port), U32),
        S.BytesCodec: lambda: st.binary(max_size=60) | _patterns(),
        S.RingReqCodec: lambda: st.builds(RingReq, *[st.integers(-2**31, 2**32)] * 4),
        S.FrameCodec: lambda: st.builds(FrameHdr, st.integers(0, 9), *[U32] * 5),
        S.Optional: lambda: st.none() | values(c.inner),
        S.Either: lambda: st.one_of(*[values(m) for _tp, m in c.members]),
        S.Sequence: lambda: (st.tuples(*[values(i) for i in c.items]) if c.tuple
                             else st.lists(values(c.items[0]), max_size=6)),
        S.Done: st.none,
    }
    return kinds[type(c)]()


@st.composite
def steps(draw):
    op = draw(st.sampled_from(sorted(S.SIGNATURES)))
    sig = S.SIGNATURES[op]
    args = {p.name: draw(values(p.codec)) for p in sig.params
            if p.default is S.inspect.Parameter.empty or draw(st.booleans())}
    result = draw(st.none() | st.tuples(st.just("ok"), values(sig.result))
                  | st.tuples(st.just("err"), st.sampled_from(sorted(errno.errorcode))))
    return S.Step(op, args, result)


@settings(max_examples=600)
@given(steps())
def test_parse_of_print_is_the_step(step):
    line = str(step)
    assert "\n" not in line and "#" not in line
    assert S.parse_step(line) == step, line


def _story(b):
    """A run touching portids, driver handles, unspecified bytes, errors and COPY
    credentials."""
    a = ring_socket(b, proto=NETLINK_USERSOCK)
    peer = b.socket(NETLINK_USERSOCK)
    msg = nlmsg(0x30, 0, 9, b"user data")
    b.send(peer, msg, (b.portid(a), 0))
    b.frame(a, "rx", 0)
    b.recv(a)
    s = ring_socket(b, tx=SMALL)
    deliver(b, s, 40)
    h = b.drv_alloc(s, 20)
    b.payload(s, "rx", 1, 100)
    b.drv_free(h)
    b.message(s, "rx", 0)
    b.send_dump(s, 1, 3, 40)
    b.statuses(s, "rx")
    b.poll(s)
    with pytest.raises(OSError):
        b.mmap(s, 4096, 4096)


def test_a_recorded_run_replays_on_a_fresh_backend():
    """Another backend binds other portids (next_port_base) and numbers driver messages
    on: the script names both, so it replays with every result as expected."""
    rec = S.Recorder(ModelBackend())
    _story(rec)
    text = rec.script()
    assert "dst=@s0" in text and "pid=self" in text and "??*" in text and "-1 EINVAL" in text
    assert not [p for p in rec.names.portids.values() if str(p) in text]  # none absolute
    first = ModelBackend()
    first.drv_alloc(first.socket(), 8)  # this model's handle numbers are now off by one
    done = S.run(S.parse(text), first)
    assert S.render(done) == text


def test_a_differing_result_names_its_step_and_the_script_so_far():
    rec = S.Recorder(ModelBackend())
    _story(rec)
    text = rec.script().replace("statuses s2 rx = [VALID,VALID", "statuses s2 rx = [VALID,COPY")
    with pytest.raises(S.Mismatch) as e:
        S.run(S.parse(text), ModelBackend())
    msg = str(e.value)
    assert "statuses s2 rx = [VALID,COPY,VALID,UNUSED]\n  got: [VALID,VALID,VALID,UNUSED]" \
        in msg
    assert msg.split("script so far:\n  ")[1].startswith("socket proto=usersock = s0\n")


@pytest.mark.parametrize("line,why", [
    ("frobnicate s0", "unknown operation"),
    ("close", "takes 1 arguments"),
    ("close s0 s1", "takes 1 arguments"),
    ("close m0", "is not a sN name"),
    ("mmap s0 colour=red", "no optional parameter"),
    ("close s0 = 3", "returns nothing"),
])
def test_bad_lines_are_refused(line, why):
    with pytest.raises(S.ScriptError, match=why):
        S.parse(line)


def test_a_name_used_before_it_is_made_is_refused():
    with pytest.raises(S.ScriptError, match="s1 is used before a step made it"):
        S.run(S.parse("socket = s0\nclose s1\n"), ModelBackend())


def test_a_divergence_prints_the_script_so_far_and_the_divergent_line():
    """The lockstep checker writes what it compared as script lines: the divergent one
    with the model's result, the kernel's next to it, the steps before it replayable."""
    from .backends import make_backend
    from .backends.lockstep import Divergence
    b = make_backend("mutant:no_exclusivity")
    s = ring_socket(b, rx=SMALL, tx=SMALL, proto=NETLINK_ROUTE)
    b.dup(s)
    b.put_tx(s, 0, nlmsg(1, 1, 1))
    with pytest.raises(Divergence) as e:
        b.send_ring(s)
    b.close_all()
    msg = str(e.value)
    assert msg.startswith("tracepoint decisions differ after\n  send_ring s0 = 16\n"
                          "  kernel: tx s0 copy/exclusive frame=0 len=16")
    assert "  model:  tx s0 copy/file_shared frame=0 len=16" in msg
    so_far = msg.split("script so far (reads left out):\n  ")[1].replace("\n  ", "\n")
    assert so_far.startswith("socket proto=route = s0\nset_ring s0 rx {4096,4,4096,4} = ok\n")
    assert "dup s0 = fd0\n" in so_far
    assert [str(st) for st in S.parse(so_far)] == so_far.splitlines()
