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


# ---- verbatim from console logs of real runs (~/.cache/nlmmap-gate/runs/<dir>) --------
# 20261202-125755-32061-run/console.log, lines 170-196, 200-210, 499-501 (197-199, three
# lines of the register dump, left out: spec/ reads register names as rule ids).
# A debug-profile boot without no5lvl (see vm/cli.py PROFILE_APPEND): KASAN reports a
# wild access in do_raw_spin_lock from an interrupt during identify_cpu(), 0.01 s into
# boot; then the boot goes on to the suite's start marker.  Not netlink code.
KASAN_AT_BOOT_NO5LVL = """\
[    0.004247] clocksource: tsc-early: mask: 0xffffffffffffffff max_cycles: 0x398c081960b, max_idle_ns: 881590701547 ns
[    0.009013] Calibrating delay loop (skipped), value calculated using timer frequency.. 3992.32 BogoMIPS (lpj=1996161)
[    0.011722] ==================================================================
[    0.012013] BUG: KASAN: wild-memory-access in do_raw_spin_lock+0x122/0x270
[    0.012013] Write of size 4 at addr ff110001001028a8 by task swapper/0/0
[    0.012013]
[    0.012013] CPU: 0 UID: 0 PID: 0 Comm: swapper/0 Not tainted 6.12.117+ #1
[    0.012013] Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
[    0.012013] Call Trace:
[    0.012013]  <IRQ>
[    0.012013]  dump_stack_lvl+0x66/0xa0
[    0.012013]  kasan_report+0xe0/0x110
[    0.012013]  ? do_raw_spin_lock+0x122/0x270
[    0.012013]  kasan_check_range+0x100/0x1b0
[    0.012013]  do_raw_spin_lock+0x122/0x270
[    0.012013]  ? __pfx_do_raw_spin_lock+0x10/0x10
[    0.012013]  handle_edge_irq+0x31/0xbb0
[    0.012013]  __common_interrupt+0x6d/0x170
[    0.012013]  common_interrupt+0x83/0xa0
[    0.012013]  </IRQ>
[    0.012013]  <TASK>
[    0.012013]  asm_common_interrupt+0x26/0x40
[    0.012013] RIP: 0010:x86_family+0x0/0x30
[    0.012013] Code: 0f ae f8 83 ea 04 89 d0 e9 8d 41 03 00 66 2e 0f 1f 84 00 00 00 00 00 0f 1f 00 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 <f3> 0f 1e fa 0f 1f 44 00 00 89 f8 c1 e8 08 83 e0 0f 83 f8 0f 74 05
[    0.012013] RSP: 0000:ffffffffb8e07e58 EFLAGS: 00000246
[    0.012013] RAX: 0000000000060fb1 RBX: 0000000000020800 RCX: 00000000f6d8320b
[    0.012013] RDX: 000000001fcbfbfd RSI: ffffffffb9520b44 RDI: 0000000000060fb1
[    0.012013]  cpu_detect+0x120/0x2b0
[    0.012013]  ? __pfx_lock_release+0x10/0x10
[    0.012013]  identify_cpu+0x2c3/0x1750
[    0.012013]  arch_cpu_finalize_init+0x25/0x350
[    0.012013]  start_kernel+0x2fa/0x3f0
[    0.012013]  x86_64_start_reservations+0x18/0x30
[    0.012013]  x86_64_start_kernel+0xce/0xe0
[    0.012013]  common_startup_64+0x12c/0x138
[    0.012013]  </TASK>
[    0.012013] ==================================================================
[    0.012013] Disabling lock debugging due to kernel taint
[   41.829003] virtme-ng-init: virtme-init: cannot find script I/O ports; make sure virtio-serial is available
[   41.839909] virtme-ng-init: starting script (console fallback)
NLMMAP-GUEST: start 6.12.117+
"""

# 20261202-102640-28231-run/console.log, lines 467, 482-545.
# The old series' lock cycle mmap_lock -> nlk->pg_vec_lock -> rtnl_mutex, reported while
# conformance/test_hardening.py ran (the pytest line the report interrupts included).
LOCKDEP_PG_VEC_LOCK_RTNL = """\
NLMMAP-GUEST: start 6.12.117+
conformance/test_hardening.py::test_m1_no_lock_cycle_mmap_pg_vec_rtnl [  466.718972]
[  466.719414] ======================================================
[  466.719723] WARNING: possible circular locking dependency detected
[  466.720565] 6.12.117+ #1 Not tainted
[  466.721007] ------------------------------------------------------
[  466.721271] python/89 is trying to acquire lock:
[  466.721627] ffff888105779418 (&mm->mmap_lock){++++}-{3:3}, at: __might_fault+0xc3/0x170
[  466.725672]
[  466.725672] but task is already holding lock:
[  466.725991] ffffffffa724aec8 (rtnl_mutex){+.+.}-{3:3}, at: dev_ifconf+0xf3/0x280
[  466.726536]
[  466.726536] which lock already depends on the new lock.
[  466.726536]
[  466.726883]
[  466.726883] the existing dependency chain (in reverse order) is:
[  466.727187]
[  466.727187] -> #2 (rtnl_mutex){+.+.}-{3:3}:
[  466.727746]        __mutex_lock+0x1a1/0xc90
[  466.728440]        rtnetlink_rcv_msg+0x2ad/0xb20
[  466.728676]        netlink_rcv_skb+0x137/0x370
[  466.728904]        netlink_unicast+0x516/0x7d0
[  466.729110]        netlink_sendmsg+0x12dd/0x2040
[  466.729350]        __sys_sendto+0x343/0x390
[  466.729562]        __x64_sys_sendto+0xe0/0x1c0
[  466.729771]        do_syscall_64+0xc1/0x1e0
[  466.729970]        entry_SYSCALL_64_after_hwframe+0x77/0x7f
[  466.730310]
[  466.730310] -> #1 (&nlk->pg_vec_lock){+.+.}-{3:3}:
[  466.730691]        __mutex_lock+0x1a1/0xc90
[  466.730891]        netlink_mmap+0xde/0x720
[  466.731090]        __mmap_region+0xb3a/0x1af0
[  466.731295]        mmap_region+0x1a2/0x230
[  466.731507]        do_mmap+0x95e/0xf20
[  466.731690]        vm_mmap_pgoff+0x15f/0x2f0
[  466.731933]        ksys_mmap_pgoff+0x280/0x3b0
[  466.732164]        do_syscall_64+0xc1/0x1e0
[  466.732409]        entry_SYSCALL_64_after_hwframe+0x77/0x7f
[  466.732708]
[  466.732708] -> #0 (&mm->mmap_lock){++++}-{3:3}:
[  466.733065]        __lock_acquire+0x26ca/0x3f40
[  466.733296]        lock_acquire+0x191/0x4f0
[  466.733531]        __might_fault+0xf3/0x170
[  466.733759]        _copy_to_user+0x22/0x80
[  466.733963]        inet_gifconf+0x208/0x3a0
[  466.734168]        dev_ifconf+0x14c/0x280
[  466.734387]        sock_ioctl+0x30c/0x5e0
[  466.734584]        __x64_sys_ioctl+0x123/0x180
[  466.734792]        do_syscall_64+0xc1/0x1e0
[  466.734990]        entry_SYSCALL_64_after_hwframe+0x77/0x7f
[  466.735244]
[  466.735244] other info that might help us debug this:
[  466.735244]
[  466.735691] Chain exists of:
[  466.735691]   &mm->mmap_lock --> &nlk->pg_vec_lock --> rtnl_mutex
[  466.735691]
[  466.736368]  Possible unsafe locking scenario:
[  466.736368]
[  466.736626]        CPU0                    CPU1
[  466.736850]        ----                    ----
[  466.737092]   lock(rtnl_mutex);
[  466.737364]                                lock(&nlk->pg_vec_lock);
[  466.737686]                                lock(rtnl_mutex);
[  466.738010]   rlock(&mm->mmap_lock);
[  466.738290]
"""

# 20261202-102426-27574-kvm-probe/console.log, lines 1-8.
# QEMU itself failing (the KVM probe boot on this host): no kernel line at all.
QEMU_KVM_ASSERTION = """\
virtme: waiting for virtiofsd to start
fuse: invalid argument `/tmp/virtmedmy_2gwn'
virtme: waiting for virtiofsd to start
virtme: waiting for virtiofsd to start
virtme: waiting for virtiofsd to start
virtme: waiting for virtiofsd to start
virtme-run: failed to start virtiofsd, fallback to 9pqemu-system-x86_64: error: failed to set MSR 0x10a to 0x69
qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.
"""

# 20261202-130950-7660-gate/console.log, lines 143-167 (the end of the log): the fast kernel
# under TCG with 2 vCPUs on the busy 2-core host, `vm soak` run 7 of 50.  check_timer()
# waits for timer interrupts that a starved TCG vCPU did not deliver in time; the
# guest panicked 0.018 s into boot, long before the suite.
IOAPIC_TIMER_PANIC = """\
[    0.005000] APIC: Switch to symmetric I/O mode setup
[    0.010000] ..TIMER: vector=0x30 apic1=0 pin1=2 apic2=-1 pin2=-1
[    0.011000] ..MP-BIOS bug: 8254 timer not connected to IO-APIC
[    0.011000] ...trying to set up timer (IRQ0) through the 8259A ...
[    0.011000] ..... (found apic 0 pin 2) ...
[    0.012000] ....... failed.
[    0.012000] ...trying to set up timer as Virtual Wire IRQ...
[    0.016000] ..... failed.
[    0.016000] ...trying to set up timer as ExtINT IRQ...
[    0.018000] ..... failed :
[    0.018000] Kernel panic - not syncing: IO-APIC + timer doesn't work!  Boot with apic=debug and send a report.  Then try booting with the 'noapic' option.
[    0.018000] CPU: 0 UID: 0 PID: 0 Comm: swapper/0 Not tainted 6.12.117 #1
[    0.018000] Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
[    0.018000] Call Trace:
[    0.018000]  <TASK>
[    0.018000]  panic+0x32b/0x390
[    0.018000]  setup_IO_APIC+0x83e/0x860
[    0.018000]  ? clear_IO_APIC_pin+0x16c/0x260
[    0.018000]  apic_intr_mode_init+0x6e/0xf0
[    0.018000]  x86_late_time_init+0x24/0x40
[    0.018000]  start_kernel+0x4af/0x800
[    0.018000]  x86_64_start_reservations+0x18/0x30
[    0.018000]  x86_64_start_kernel+0xc5/0xe0
[    0.018000]  common_startup_64+0x12c/0x138
[    0.018000]  </TASK>
"""

# 20261202-135426-13917-gate/console.log, lines 296-340, without lines
# 305, 306, 307, 333, 334, 335 (register dump: spec/ reads register names as rule ids).
# The fast kernel, 2 vCPUs under MTTCG on the loaded host, `vm soak` run 18: int3 trap in
# a static-branch site of enqueue_timer (the code bytes show the patched "eb 09" jump
# already in place) 3.3 s into boot, then a panic.  Not netlink code.
INT3_AT_BOOT = """\
[    3.066792] clocksource: Switched to clocksource tsc-early
[    3.275726] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI
[    3.275726] CPU: 0 UID: 0 PID: 19 Comm: rcu_preempt Not tainted 6.12.117 #1
[    3.275726] Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
[    3.275726] RIP: 0010:enqueue_timer+0xa5/0xe0
[    3.275726] Code: 78 08 4c 89 e2 48 89 de e8 e8 d9 ff ff 65 ff 0d 59 a7 82 53 75 b5 0f 1f 44 00 00 eb ae 4c 89 65 18 c6 45 26 01 c6 45 24 00 eb <09> 5b 5d 41 5c c3 cc cc cc cc 8b 43 20 a9 00 00 08 00 75 93 80 7d
[    3.275726] RSP: 0018:ff78ad55000a3d80 EFLAGS: 00000083
[    3.275726] RAX: 0000000001800000 RBX: ff78ad55000a3e08 RCX: 0000000000000000
[    3.275726] RDX: 0000000001800000 RSI: 0000000000000006 RDI: ff291a88fdc1e440
[    3.275726] FS:  0000000000000000(0000) GS:ff291a88fdc00000(0000) knlGS:0000000000000000
[    3.275726] CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033
[    3.275726] CR2: ff291a88c6e01000 CR3: 0000000046442000 CR4: 0000000000751ef0
[    3.275726] PKRU: 55555554
[    3.275726] Call Trace:
[    3.275726]  <TASK>
[    3.275726]  __mod_timer+0x26c/0x360
[    3.275726]  schedule_timeout+0x99/0x170
[    3.275726]  ? __pfx_process_timeout+0x10/0x10
[    3.275726]  rcu_gp_fqs_loop+0x15a/0x6c0
[    3.275726]  ? __pfx_rcu_gp_kthread+0x10/0x10
[    3.275726]  rcu_gp_kthread+0x1a7/0x260
[    3.275726]  kthread+0xd0/0x100
[    3.275726]  ? __pfx_kthread+0x10/0x10
[    3.275726]  ret_from_fork+0x34/0x50
[    3.275726]  ? __pfx_kthread+0x10/0x10
[    3.275726]  ret_from_fork_asm+0x1a/0x30
[    3.275726]  </TASK>
[    3.275726] Modules linked in:
[    3.275726] ---[ end trace 0000000000000000 ]---
[    3.275726] RIP: 0010:enqueue_timer+0xa5/0xe0
[    3.275726] Code: 78 08 4c 89 e2 48 89 de e8 e8 d9 ff ff 65 ff 0d 59 a7 82 53 75 b5 0f 1f 44 00 00 eb ae 4c 89 65 18 c6 45 26 01 c6 45 24 00 eb <09> 5b 5d 41 5c c3 cc cc cc cc 8b 43 20 a9 00 00 08 00 75 93 80 7d
[    3.275726] RSP: 0018:ff78ad55000a3d80 EFLAGS: 00000083
[    3.275726] RAX: 0000000001800000 RBX: ff78ad55000a3e08 RCX: 0000000000000000
[    3.275726] RDX: 0000000001800000 RSI: 0000000000000006 RDI: ff291a88fdc1e440
[    3.275726] FS:  0000000000000000(0000) GS:ff291a88fdc00000(0000) knlGS:0000000000000000
[    3.275726] CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033
[    3.275726] CR2: ff291a88c6e01000 CR3: 0000000046442000 CR4: 0000000000751ef0
[    3.275726] PKRU: 55555554
[    3.275726] Kernel panic - not syncing: Fatal exception in interrupt
"""
