# ruff: noqa: E501  (real console lines are long)
"""Console excerpts in the exact format a 6.12 guest prints (printk.time=1)."""

KASAN_UAF = """\
[   42.123001] ==================================================================
[   42.123456] BUG: KASAN: slab-use-after-free in netlink_mmap_sendmsg+0x5c2/0x8e0
[   42.124001] Read of size 4 at addr ffff888003a1c0d8 by task python3/231
[   42.124100]
[   42.124200] CPU: 1 UID: 0 PID: 231 Comm: python3 Not tainted 6.12.117 #1
[   42.124300] Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
[   42.124400] Call Trace:
[   42.124500]  <TASK>
[   42.124600]  dump_stack_lvl+0x5d/0x80
[   42.124700]  print_report+0x174/0x505
[   42.124800]  kasan_report+0xb8/0xf0
[   42.124900]  netlink_mmap_sendmsg+0x5c2/0x8e0
[   42.125000]  __sys_sendmsg+0x10f/0x1a0
[   42.125100]  do_syscall_64+0x9e/0x1c0
[   42.125200]  entry_SYSCALL_64_after_hwframe+0x77/0x7f
[   42.125300]  </TASK>
[   42.125400]
[   42.125500] Allocated by task 231:
[   42.125600]  kasan_save_stack+0x30/0x50
[   42.125700]  __kmalloc_node_noprof+0x1c2/0x4a0
[   42.125800]  netlink_set_ring+0x1ab/0x520
[   42.125900]
[   42.126000] Freed by task 231:
[   42.126100]  kfree+0x13b/0x3a0
[   42.126200]  netlink_release+0x3f1/0x7c0
[   42.130000] ==================================================================
[   42.130100] Disabling lock debugging due to kernel taint
"""

LOCKDEP_CIRCULAR = """\
[   57.001122]
[   57.001200] ======================================================
[   57.001300] WARNING: possible circular locking dependency detected
[   57.001400] 6.12.117 #1 Not tainted
[   57.001500] ------------------------------------------------------
[   57.001600] python3/412 is trying to acquire lock:
[   57.001700] ffff888004b2c130 (&nlk->pg_vec_lock){+.+.}-{3:3}, at: netlink_mmap+0x4a/0x2c0
[   57.001800]
[   57.001900] but task is already holding lock:
[   57.002000] ffff888005a01e28 (&mm->mmap_lock){++++}-{3:3}, at: vm_mmap_pgoff+0x9b/0x1a0
[   57.002100]
[   57.002200] which lock already depends on the new lock.
"""

LOCKDEP_INCONSISTENT = """\
[   12.500100] ================================
[   12.500200] WARNING: inconsistent lock state
[   12.500300] 6.12.117 #1 Not tainted
[   12.500400] --------------------------------
[   12.500500] inconsistent {SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W} usage.
[   12.500600] swapper/0/0 [HC0[0]:SC1[1]:HE1:SE0] takes:
[   12.500700] ffff888003f0a0a8 (&nlk->cb_mutex){+.?.}-{2:2}, at: netlink_dump+0x5d/0x3c0
"""

WARN = """\
[   33.412345] ------------[ cut here ]------------
[   33.412400] WARNING: CPU: 0 PID: 198 at net/netlink/af_netlink.c:1287 netlink_ring_set_copied+0x91/0xb0
[   33.412500] Modules linked in:
[   33.412600] CPU: 0 UID: 0 PID: 198 Comm: python3 Not tainted 6.12.117 #1
[   33.412700] RIP: 0010:netlink_ring_set_copied+0x91/0xb0
[   33.412800] Call Trace:
[   33.412900]  <TASK>
[   33.413000]  netlink_recvmsg+0x2e1/0x4a0
[   33.413100]  </TASK>
[   33.413900] ---[ end trace 0000000000000000 ]---
[   33.414000] this line is after the report
"""

NULL_DEREF_PANIC = """\
[   21.000001] BUG: kernel NULL pointer dereference, address: 0000000000000010
[   21.000002] #PF: supervisor read access in kernel mode
[   21.000003] #PF: error_code(0x0000) - not-present page
[   21.000004] PGD 0 P4D 0
[   21.000005] Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI
[   21.000006] CPU: 1 UID: 0 PID: 300 Comm: python3 Not tainted 6.12.117 #1
[   21.000007] RIP: 0010:netlink_mmap_rcv+0x22/0x1a0
[   21.000020] ---[ end trace 0000000000000000 ]---
[   21.000021] Kernel panic - not syncing: Fatal exception in interrupt
[   21.000022] Kernel Offset: 0x12a00000 from 0xffffffff81000000
[   21.000023] ---[ end Kernel panic - not syncing: Fatal exception in interrupt ]---
"""

SYSRQ_PANIC = """\
NLMMAP-GUEST: start 6.12.117
[   18.004174] sysrq: Trigger a crash
[   18.005526] Kernel panic - not syncing: sysrq triggered crash
[   18.006326] CPU: 0 UID: 0 PID: 79 Comm: sh Not tainted 6.12.117 #1
[   18.007324] Call Trace:
[   18.008244]  <TASK>
[   18.008904]  panic+0x32b/0x390
[   18.009982]  sysrq_handle_crash+0x1a/0x20
[   18.016215]  </TASK>
"""

HUNG_TASK = """\
[  245.123456] INFO: task python3:301 blocked for more than 122 seconds.
[  245.123500]       Not tainted 6.12.117 #1
[  245.123600] "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
[  245.123700] task:python3         state:D stack:0     pid:301   tgid:301   ppid:1      flags:0x00004002
"""

SLEEP_IN_ATOMIC = """\
[   10.100000] BUG: sleeping function called from invalid context at mm/slub.c:4140
[   10.100100] in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 222, name: python3
"""

RCU_STALL = """\
[  300.000000] rcu: INFO: rcu_preempt self-detected stall on CPU
[  300.000100] rcu:     1-....: (21000 ticks this GP) idle=8a4c/1/0x4000000000000000
"""

CLEAN_BOOT = """\
[    0.000000] Linux version 6.12.117 (root@vm) (gcc (Debian 12.2.0-14+deb12u1) 12.2.0) #1 SMP
[    0.000000] Command line: console=ttyS0 printk.time=1 panic=-1
[    4.576493] VFS: Mounted root (9p filesystem) readonly on device 0:20.
[    5.657520] Run /usr/lib/virtme-ng-init as init process
[   15.616086] virtme-ng-init: starting script (console fallback)
NLMMAP-GUEST: start 6.12.117
WARNING: this is user space, not the kernel
conformance/test_kernel.py::test_bug_report_BUG_kasan PASSED
conformance/test_kernel.py::test_oops_handling PASSED
BUG: printed by a python test, no timestamp
NLMMAP-GUEST: exit 0
[   18.860069] virtme-ng-init: script exited with code 0
[   18.904569] reboot: Power down
"""
