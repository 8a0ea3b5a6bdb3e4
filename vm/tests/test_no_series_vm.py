"""Negative control on a real kernel (``pytest -m vm``, tox env ``vm``): the unpatched
base kernel answers the ring UAPI exactly as the model of a kernel without the series
(``World(netlink_mmap=False)``) and the rules R2.1, R3.1, R9.14 say, and the smoke
program reports the feature absent (exit 2). Never skipped: if the kernel cannot be built
or booted the test fails with the harness's one-line error."""

import json
import logging
import shlex
import sys

import pytest

from conformance.nommap import EXPECTED, model_outcomes
from vm import boot, build, judge, paths

pytestmark = pytest.mark.vm


@pytest.fixture(scope="module")
def unpatched(tmp_path_factory):
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s %(name)s] %(message)s")
    k = build.ensure_kernel(profile="fast", series_dir=tmp_path_factory.mktemp("no-series"))
    assert k.bzimage.exists() and k.series == []
    return k.bzimage


def guest_command(py: str) -> str:
    return (f'{py} -m conformance.nommap > "$NLMMAP_RUN_DIR/nommap.json" || exit 10\n'
            f"{py} -m conformance.smoke; echo \"smoke-exit=$?\"")


def check(res) -> None:
    assert judge.judge_boot(res) is None, judge.judge_boot(res).render()
    assert res.status == 0, f"probe failed in the guest (status {res.status})"
    out = json.loads((res.run_dir / "nommap.json").read_text())
    assert out.pop("getsockopt_rx_ring") == "ENOPROTOOPT"   # R2.1: no ring getsockopt
    assert out == EXPECTED
    assert out == model_outcomes()
    assert "smoke-exit=2" in res.console_text                 # feature absent


def test_r2_1_r3_1_r9_14_unpatched_kernel_agrees_with_model_without_series(unpatched):
    """setsockopt(SOL_NETLINK, 6/7) -> ENOPROTOOPT (also unprivileged, no capability
    check), a bad optval pointer -> EFAULT (6.12 reads the int first, R2.2), mmap ->
    ENODEV (R3.1), sendto(NULL, 0) -> ENODATA (ordinary zero-length send, R9.14/M8),
    poll = datagram_poll (POLLOUT|POLLWRNORM); the smoke program exits 2."""
    res = boot.run(unpatched, guest_command(shlex.quote(sys.executable)),
                   cache=paths.cache_root(), echo=False, silence=300, total=900,
                   label="no-series")
    check(res)
