"""Old userspace works unchanged: real programs written for the 3.10-4.6 UAPI, built from
their original sources (``thirdparty/``, see each ORIGIN.md), run against the kernel.

- Patrick McHardy's own libmnl mmap support and examples (2012): an RTM_GETROUTE dump
  through the RX ring; nfqueue with config and verdicts sent from TX-ring frames.
- Ken-ichirou MATSUZAWA's libmnl ring API and examples (2014-2016): link and route dumps
  through the RX ring, a genetlink request with NLM_F_ACK from a TX-ring frame, nfqueue
  verdicts through the TX ring, nflog through the RX ring.

The oracle is never the program's own word: dumps are compared with what ``ip`` reports
through a plain socket, verdicts with the datagrams that really arrive at a veth peer and
the kernel's own nfqueue/nflog counters; the series' tracepoints show that the frames
really went through the rings (TX frames consumed, RX frames filled). Each scenario runs
in a forked child inside a fresh network namespace. On a kernel without the series the
programs fail at their first ring setsockopt, and so do these tests (never skipped)."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from . import thirdparty
from .genl import Tracer
from .netsetup import IP, NFT, ip_batch, nft, sh, udp_send, veth_with_peer
from .test_subsystems import in_netns
from .uapi import FeatureAbsent

pytestmark = pytest.mark.kernel

ROUTES = 700  # enough that the dump needs several chunks, hence RX-ring frames
LINK_PAIRS = 40
PACKETS = 40
NFQ_PROC = "/proc/net/netfilter/nfnetlink_queue"
NFLOG_PROC = "/proc/net/netfilter/nfnetlink_log"


@pytest.fixture(scope="module")
def progs(tmp_path_factory) -> Path:
    """Built programs: the gate's host build when it made one (make then has nothing to
    do), else a build here."""
    out = os.environ.get(thirdparty.BUILD_ENV)
    return thirdparty.build(Path(out) if out else tmp_path_factory.mktemp("thirdparty"))


def traced(call):
    """``call()`` with the ring decisions it caused: its result, RX decisions by kind
    (``deliver``: a VALID frame, ``copy``: a COPY frame) and the number of TX frames the
    kernel consumed. Only ring sockets produce these, and only the program under test
    has one. Without the series' tracepoints the program still runs first, so that the
    failure shows how old userspace fails there (its ring setsockopt)."""
    try:
        tracer = Tracer.get()
    except FeatureAbsent:
        call()
        raise
    result = call()
    events = tracer.take()
    return (result, Counter(e.decision for e in events if e.kind == "rx"),
            sum(e.kind == "tx" for e in events))


def _ip_routes_v4() -> list[str]:
    """Destinations of every IPv4 route in every table, as a plain-socket dump (ip) sees
    them; ip writes host routes without their /32."""
    rows = json.loads(sh(IP, "-j", "-4", "route", "show", "table", "all"))
    return sorted(r["dst"].split("/")[0] for r in rows)


def _route_dump(prog: str) -> int:
    ip_batch(["link set lo up", "link add v0 type veth peer name v1",
              "addr add 10.9.0.1/24 dev v0", "link set v0 up", "link set v1 up"]
             + [f"route add 10.{100 + i // 250}.{i % 250}.0/24 dev v0" for i in range(ROUTES)])
    out = thirdparty.run(Path(prog).parent.name + "-rtnl-route-dump", [prog, "inet"])
    got = sorted(re.findall(r"\bdst=(\S+)", out))
    plain = _ip_routes_v4()
    assert len(plain) > ROUTES, plain[:10]
    assert got == plain, (f"ring dump has {len(got)} routes, plain dump {len(plain)}; "
                          f"only in ring: {sorted(set(got) - set(plain))[:10]}, "
                          f"missing: {sorted(set(plain) - set(got))[:10]}")
    return len(got)


@pytest.mark.parametrize("who", ["kaber", "chamaken"])
def test_route_dump_through_rx_ring(progs, who):
    """rtnl-route-dump: RTM_GETROUTE dump read from RX-ring frames (COPY frames with
    recv), every route the kernel has, once. 700 routes of at least 52 bytes each
    (nlmsghdr, rtmsg, RTA_TABLE, RTA_DST, RTA_OIF) exceed the largest dump chunk
    (32 KiB): at least two chunks, each one frame."""
    n, rx, tx = traced(lambda: in_netns(_route_dump, str(progs / who / "rtnl-route-dump")))
    assert n > ROUTES
    assert rx["deliver"] + rx["copy"] >= 2 and tx == 0, (rx, tx)


def _link_dump(prog: str) -> int:
    ip_batch(["link set lo up"] + [f"link add a{i} type veth peer name b{i}"
                                   for i in range(LINK_PAIRS)])
    out = thirdparty.run("chamaken-rtnl-link-dump", [prog])
    got = {int(i): n for i, n in re.findall(r"^index=(\d+) .*?\bname=(\S+)", out, re.M)}
    plain = {r["ifindex"]: r["ifname"] for r in json.loads(sh(IP, "-j", "link", "show"))}
    assert len(out.splitlines()) == len(got), out
    assert got == plain, f"ring dump {got}\nplain dump {plain}"
    return len(got)


def test_link_dump_through_rx_ring(progs):
    """chamaken rtnl-link-dump: RTM_GETLINK dump, request sent from a plain buffer, the
    answer read from RX-ring frames."""
    n, rx, tx = traced(lambda: in_netns(_link_dump, str(progs / "chamaken" / "rtnl-link-dump")))
    assert n > 2 * LINK_PAIRS
    assert rx["deliver"] + rx["copy"] >= 2 and tx == 0, (rx, tx)  # dump chunks + DONE


def test_genl_request_from_tx_ring_gets_answer_and_ack(progs):
    """chamaken genl-family-get nlctrl: CTRL_CMD_GETFAMILY with NLM_F_ACK written into a
    TX-ring frame and sent with sendto(NULL, 0); the program reads the answer and then
    the ACK from the RX ring and exits only on the ACK (MNL_CB_STOP). The family is the
    controller itself: id GENL_ID_CTRL (16), its 'notify' group id 16 (GENL_ID_CTRL too).
    (Without a name the example asks for a dump carrying a u32 CTRL_ATTR_FAMILY_ID; 6.12
    rejects that, "attribute type 1 has an invalid length", EINVAL, on a plain socket
    too: the same tree's non-mmap examples/genl/genl-family-get fails the same way.)"""
    out, rx, tx = traced(lambda: thirdparty.run(
        "chamaken-genl-family-get", [str(progs / "chamaken" / "genl-family-get"), "nlctrl"]))
    assert tx == 1 and rx["deliver"] + rx["copy"] == 2, (rx, tx)  # request; answer, ACK
    assert re.search(r"^name=nlctrl\tid=16\t", out, re.M), out
    assert re.search(r"^id-0x10 name: notify", out, re.M), out


NFQ_RULE = """table ip t {
  chain out {
    type filter hook output priority 0; policy accept;
    ip daddr 10.9.0.2 udp dport 9999 counter queue num 3
  }
}
"""


def _rule_packets() -> int:
    text = sh(NFT, "list", "chain", "ip", "t", "out")
    return int(re.search(r"counter packets (\d+)", text).group(1))


def _nfqueue(prog: str, who: str) -> int:
    peer = veth_with_peer()
    try:
        nft(NFQ_RULE)
        with tempfile.TemporaryDirectory() as d:
            bg = thirdparty.Background(f"{who}-nf-queue", [prog, "3"], Path(d) / "out")
            try:
                bg.wait_for("queue 3 bound", lambda: 3 in thirdparty.proc_table(NFQ_PROC))
                udp_send(PACKETS)
                # id_sequence counts packets queued, queue_total those still waiting
                bg.wait_for(f"verdicts for {PACKETS} packets", lambda: (
                    thirdparty.proc_table(NFQ_PROC)[3][7] == PACKETS
                    and thirdparty.proc_table(NFQ_PROC)[3][2] == 0))
            finally:
                out = bg.stop()
        received = peer.received()
    finally:
        peer.kill()
    assert _rule_packets() == PACKETS
    assert received == PACKETS, f"{received} of {PACKETS} datagrams passed the queue"
    if who == "kaber":  # the later example no longer prints packets
        # ids count from 1 per queue; hw and hook as in _nflog
        ids = [int(i) for i in re.findall(r"^packet received \(id=(\d+) hw=0x0800 hook=3\)$",
                                          out, re.M)]
        assert ids == list(range(1, PACKETS + 1)), out
    return received


@pytest.mark.parametrize("who", ["kaber", "chamaken"])
def test_nfqueue_verdicts_through_tx_ring(progs, who):
    """nf-queue: config and NF_ACCEPT verdicts written into TX-ring frames, packets read
    from the RX ring; real UDP datagrams over a veth pair reach the peer only through
    those verdicts (a queue without a listener drops them: no bypass flag)."""
    n, rx, tx = traced(lambda: in_netns(_nfqueue, str(progs / who / "nf-queue"), who))
    assert n == PACKETS
    # one packet message per VALID frame; TX: 4 config frames (PF_UNBIND, PF_BIND, BIND,
    # PARAMS) and one verdict frame per packet
    assert rx["deliver"] == PACKETS and rx["copy"] == 0 and tx == 4 + PACKETS, (rx, tx)


NFLOG_RULE = """table ip t {
  chain out {
    type filter hook output priority 0; policy accept;
    ip daddr 10.9.0.2 udp dport 9999 counter log prefix "oldlog" group 5
  }
}
"""


def _nflog(prog: str) -> int:
    peer = veth_with_peer()
    try:
        nft(NFLOG_RULE)
        with tempfile.TemporaryDirectory() as d:
            bg = thirdparty.Background("chamaken-nf-log", [prog, "5"], Path(d) / "out")
            try:
                bg.wait_for("group 5 bound", lambda: 5 in thirdparty.proc_table(NFLOG_PROC))
                udp_send(PACKETS)
                bg.wait_for(f"{PACKETS} log lines",
                            lambda: bg.output().count("log received") >= PACKETS)
            finally:
                out = bg.stop()
        received = peer.received()
    finally:
        peer.kill()
    lines = re.findall(r"^log received .*$", out, re.M)
    # hw: skb->protocol, set to ETH_P_IP by __ip_local_out; hook 3: NF_INET_LOCAL_OUT
    assert lines == ['log received (prefix="oldlog" hw=0x0800 hook=3 mark=0)'] * PACKETS, out
    assert _rule_packets() == PACKETS
    assert received == PACKETS
    return len(lines)


def test_nflog_through_rx_ring(progs):
    """chamaken nf-log: config from TX-ring frames, every logged datagram (real UDP over a
    veth pair, output hook) read from the RX ring with the rule's prefix."""
    n, rx, tx = traced(lambda: in_netns(_nflog, str(progs / "chamaken" / "nf-log")))
    assert n == PACKETS
    # nflog batches packets per message as its timer and threshold decide: >= 1 frame
    assert rx["deliver"] + rx["copy"] >= 1 and tx == 4, (rx, tx)  # 4 config frames
