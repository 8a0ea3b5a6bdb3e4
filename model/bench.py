"""Model throughput: operations per second over a realistic mix (ring RX from the
driver with release, COPY + recvmsg, ring TX with ACK, poll, a dump now and then).

    python3 model/bench.py [seconds]
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model import RingReq, World  # noqa: E402
from model.uapi import NLM_F_ACK, NLMSG_NOOP, UNUSED, VALID, nlmsg  # noqa: E402

log = logging.getLogger("model.bench")
ACK_REQ = nlmsg(NLMSG_NOOP, NLM_F_ACK, 1, 0)


def run(seconds: float) -> tuple[int, float]:
    w = World()
    fd = w.socket().value
    w.bind(fd)
    pid = w.portid(fd)
    w.setsockopt_ring(fd, False, RingReq(16384, 4, 4096, 16))
    w.setsockopt_ring(fd, True, RingReq(4096, 4, 1024, 16))
    mid = w.mmap(fd, 65536 + 16384).value
    ops = 0
    rx_next = tx_next = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(50):
            h = w.drv_alloc(pid, 200).value
            w.drv_xmit(h)
            w.drv_plain(pid, 100)
            w.recvmsg(fd)
            w.write_frame(mid, "tx", tx_next, status=VALID, payload=ACK_REQ, nm_len=16)
            tx_next = (tx_next + 1) % 16
            w.sendmsg(fd, None)
            w.poll(fd)
            ops += 7
            while w.frame(mid, "rx", rx_next).value.status != UNUSED:
                w.write_frame(mid, "rx", rx_next, status=UNUSED)
                rx_next = (rx_next + 1) % 16
                ops += 2
            ops += 1
        w.drv_dump(fd, 8, 500)
        w.poll(fd)
        ops += 2
        w.trace.clear()
        w.ledger.clear()
    return ops, time.perf_counter() - t0


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    ops, dt = run(seconds)
    log.info("model: %d operations in %.2f s = %.0f ops/s", ops, dt, ops / dt)


if __name__ == "__main__":
    main()
