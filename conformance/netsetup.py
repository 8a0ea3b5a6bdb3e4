"""Network namespaces, veth pairs and nftables rules for the real-subsystem scenarios
(kernel-only). Everything runs in forked children that unshare their network namespace,
so the test process (and the guest) keep their own namespace untouched."""

from __future__ import annotations

import ctypes
import os
import shutil
import socket
import struct
import subprocess

from .uapi import _libc

CLONE_NEWNET = 0x40000000
IP = shutil.which("ip") or "/usr/sbin/ip"
NFT = shutil.which("nft") or "/usr/sbin/nft"


def unshare_net() -> None:
    if _libc.unshare(CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"unshare(CLONE_NEWNET): {os.strerror(e)}")


def sh(*cmd: str, stdin: str | None = None) -> str:
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def ip_batch(lines: list[str]) -> None:
    sh(IP, "-batch", "-", stdin="\n".join(lines) + "\n")


def nft(ruleset: str) -> None:
    sh(NFT, "-f", "-", stdin=ruleset)


class Peer:
    """A child process in its own network namespace holding the far end ``v1`` of a veth
    pair (10.9.0.2/24) and counting UDP datagrams received on port 9999."""

    def __init__(self) -> None:
        self._ready_r, ready_w = os.pipe()
        self._cmd_r, self._cmd_w = os.pipe()
        self._res_r, res_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - child
            keep = {self._ready_r, ready_w, self._cmd_r, self._cmd_w, self._res_r, res_w}
            for fd in range(3, 1024):  # drop inherited pipes and sockets of the parent
                if fd not in keep:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            try:
                unshare_net()
                os.write(ready_w, b"1")
                os.read(self._cmd_r, 1)  # parent moved v1 into our namespace
                ip_batch(["link set lo up", "addr add 10.9.0.2/24 dev v1",
                          "link set v1 up"])
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                u.bind(("10.9.0.2", 9999))
                os.write(ready_w, b"2")
                os.read(self._cmd_r, 1)  # parent finished sending
                n = 0
                u.settimeout(0.5)
                while True:
                    try:
                        u.recv(65536)
                        n += 1
                    except TimeoutError:
                        break
                os.write(res_w, struct.pack("=i", n))
            except BaseException as e:  # noqa: BLE001
                os.write(res_w, struct.pack("=i", -1) + str(e).encode()[:500])
            os._exit(0)
        os.close(ready_w)
        os.close(res_w)
        os.read(self._ready_r, 1)

    def attach(self) -> None:
        """Move v1 into the peer's namespace and wait until it listens."""
        sh(IP, "link", "set", "v1", "netns", str(self.pid))
        os.write(self._cmd_w, b"g")
        if os.read(self._ready_r, 1) != b"2":
            raise RuntimeError("peer failed to configure v1: " + self.result_text())

    def kill(self) -> None:
        import signal
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass

    def result_text(self) -> str:
        return os.read(self._res_r, 600).decode(errors="replace")

    def received(self) -> int:
        os.write(self._cmd_w, b"d")
        data = os.read(self._res_r, 600)
        os.waitpid(self.pid, 0)
        n = struct.unpack_from("=i", data)[0]
        if n < 0:
            raise RuntimeError(f"peer failed: {data[4:].decode(errors='replace')}")
        return n


def veth_with_peer() -> Peer:
    """In the current (fresh) namespace: v0 10.9.0.1/24 <-> v1 in a peer namespace."""
    ip_batch(["link set lo up", "link add v0 type veth peer name v1",
              "addr add 10.9.0.1/24 dev v0", "link set v0 up"])
    p = Peer()
    try:
        p.attach()
    except BaseException:
        p.kill()
        raise
    return p


def udp_send(n: int, payload: bytes = b"x" * 64) -> None:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(n):
        u.sendto(payload + struct.pack("=I", i), ("10.9.0.2", 9999))
    u.close()
