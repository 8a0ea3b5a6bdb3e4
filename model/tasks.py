"""Processes, descriptors and mappings as the World sees them: the facts behind D2
("exclusive") and the ``mapped`` counter (R3.7-R3.9, seed patch "netlink: add mmap'ed
netlink helper functions"), and socket release (R2.10).
"""

from __future__ import annotations

import errno

from . import mapping, rx
from .outcome import Outcome, op
from .process import MM, File, FileTable, Mapping, Task


class TaskOps:
    """Mixin of World: fork/thread/exit, dup/close/send_fd, mmap/munmap/split."""

    @op
    def dup(self, fd: int, task: int | None = None) -> Outcome:
        return self.send_fd(fd, self.main if task is None else task, task)

    @op
    def close(self, fd: int, task: int | None = None) -> Outcome:
        f = self._file(fd, task)
        del self._task(task).files.fds[fd]
        f.fd_refs -= 1
        self._maybe_release(f)
        return Outcome(0)

    def _maybe_release(self, f: File) -> None:
        """netlink_release once the last reference is gone (R2.10)."""
        sk = f.sock
        if f.fd_refs or f.vma_refs or sk.released:
            return
        sk.released = True
        self.apply("R2.10")
        if sk.hashed:
            del self.ports[(sk.table, sk.portid)]
            sk.hashed = False
        self._set_groups(sk, set())
        sk.dump = None
        rx.purge(self, sk)

    def clone(self, task: int | None = None, files: bool = False,
              mm: bool = False) -> Outcome:
        """fork (files=mm=False), a thread (both True), or the mixed clone flags (D2)."""
        t = self._task(task)
        tid = self._next_pid
        self._next_pid += 1
        if files:
            ft = t.files
            ft.users += 1
        else:
            ft = FileTable(fds=dict(t.files.fds))
            for f in ft.fds.values():
                f.fd_refs += 1
        if mm:
            m = t.mm
            m.users += 1
        else:
            m = MM()
            for old in t.mm.maps.values():
                mid = self._next_mid
                self._next_mid += 1
                m.maps[mid] = Mapping(mid, old.file, old.length, old.start)
                old.file.vma_refs += 1
                old.file.sock.mapped += 1                 # VMA duplication
                self.apply("R3.7")
        tgid = t.tgid if mm and files else tid
        self.tasks[tid] = Task(tid, tgid, ft, m, t.uid, t.gid, t.cap_net_admin, t.net)
        return Outcome(tid)

    def fork(self, task: int | None = None) -> Outcome:
        return self.clone(task)

    def spawn_thread(self, task: int | None = None) -> Outcome:
        return self.clone(task, files=True, mm=True)

    def exit(self, task: int) -> Outcome:
        t = self.tasks.pop(task)
        t.files.users -= 1
        if not t.files.users:
            for fd in list(t.files.fds):
                f = t.files.fds.pop(fd)
                f.fd_refs -= 1
                self._maybe_release(f)
        t.mm.users -= 1
        if not t.mm.users:
            for mid in list(t.mm.maps):
                self._unmap(t.mm, mid)
        return Outcome(0)

    def unshare_net(self, task: int | None = None) -> Outcome:
        """unshare(CLONE_NEWNET): sockets the task creates from now on live in a fresh
        netns (R4.2: lookups, multicast and portids are per netns). Returns its id."""
        t = self._task(task)
        t.net = self._next_net
        self._next_net += 1
        return Outcome(t.net)

    def mappings(self, task: int | None = None) -> list[int]:
        return list(self._task(task).mm.maps)

    @op
    def mmap(self, fd: int, length: int, offset: int = 0, task: int | None = None) -> Outcome:
        """R3.2-R3.5, R3.7, R3.8."""
        t = self._task(task)
        f = self._file(fd, task)
        if not self.netlink_mmap:                               # sock_no_mmap
            self.apply("R3.1", "R9.14")
            return Outcome(None, errno.ENODEV)
        e = mapping.check_mmap(self, f.sock, length, offset)
        if e:
            return Outcome(None, e)
        self.apply("R3.7", *(("R3.8",) if f.sock.mapped else ()))
        mid = self._next_mid
        self._next_mid += 1
        t.mm.maps[mid] = Mapping(mid, f, mapping.ring_span(f.sock))
        f.vma_refs += 1
        f.sock.mapped += 1
        return Outcome(mid)

    def munmap(self, mid: int, task: int | None = None) -> Outcome:
        """R3.9: a whole mapping."""
        mm = self._task(task).mm
        if mid not in mm.maps:
            return Outcome(None, errno.EINVAL)
        self.apply("R3.9")
        self._unmap(mm, mid)
        return Outcome(0)

    def split(self, mid: int, offset: int, task: int | None = None) -> Outcome:
        """mprotect() of part of a mapping: the VMA splits in two (R3.7: ``mapped`` + 1).
        Returns the id of the upper part; a partial munmap is split + munmap."""
        mm = self._task(task).mm
        m = mm.maps.get(mid)
        if m is None or offset <= 0 or offset >= m.length or offset % self.page_size:
            return Outcome(None, errno.EINVAL)
        new = self._next_mid
        self._next_mid += 1
        mm.maps[new] = Mapping(new, m.file, m.length - offset, m.start + offset)
        m.length = offset
        m.file.vma_refs += 1
        m.file.sock.mapped += 1
        self.apply("R3.7")
        return Outcome(new)

    @op
    def send_fd(self, fd: int, to_task: int, task: int | None = None) -> Outcome:
        """SCM_RIGHTS: install the file in another task's table (D2: file shared)."""
        f = self._file(fd, task)
        table = self._task(to_task).files
        new = table.lowest_free()
        table.fds[new] = f
        f.fd_refs += 1
        return Outcome(new)

    def _unmap(self, mm: MM, mid: int) -> None:
        m = mm.maps.pop(mid)
        if not m.file.sock.released:
            m.file.sock.mapped -= 1
        m.file.vma_refs -= 1
        self._maybe_release(m.file)
