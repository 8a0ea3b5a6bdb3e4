"""Tasks, file tables, address spaces, open files and mappings.

These carry the facts port decision D2 ("exclusive") needs: how many places reference
the socket's file, whether the caller's file table or mm is shared, and how many VMAs
map the rings (R3.7-R3.9, seed patch "netlink: add mmap'ed netlink helper functions").
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False)
class File:
    sock: object
    fd_refs: int = 0      # fd-table slots referencing it (a shared table counts once)
    vma_refs: int = 0     # VMAs pinning it (vm_file)


@dataclass(eq=False)
class FileTable:
    users: int = 1
    fds: dict[int, File] = field(default_factory=dict)

    def lowest_free(self) -> int:
        fd = 3
        while fd in self.fds:
            fd += 1
        return fd


@dataclass(eq=False)
class Mapping:
    """One VMA: ``start`` is its offset into the rings' mapping (non-zero after a split)."""

    mid: int
    file: File
    length: int
    start: int = 0


@dataclass(eq=False)
class MM:
    users: int = 1
    maps: dict[int, Mapping] = field(default_factory=dict)


@dataclass(eq=False)
class Task:
    tid: int
    tgid: int
    files: FileTable
    mm: MM
    uid: int = 0
    gid: int = 0
    cap_net_admin: bool = True
    net: int = 0

    @property
    def creds(self) -> tuple[int, int, int]:
        """SCM credentials of a sender (pid, uid, gid), R4.7 / R5.2."""
        return (self.tgid, self.uid, self.gid)
