import pytest

from vm import console

from . import excerpts as ex


def kinds(text):
    return [s.kind for s in console.find_splats(text)]


@pytest.mark.parametrize("text, expected, headline", [
    (ex.KASAN_UAF, ["kasan"], "BUG: KASAN: slab-use-after-free in netlink_mmap_sendmsg"),
    (ex.LOCKDEP_CIRCULAR, ["lockdep"], "WARNING: possible circular locking dependency"),
    (ex.LOCKDEP_INCONSISTENT, ["lockdep"], "WARNING: inconsistent lock state"),
    (ex.WARN, ["warning"], "WARNING: CPU: 0 PID: 198 at net/netlink/af_netlink.c:1287"),
    (ex.NULL_DEREF_PANIC, ["bug", "panic"], "BUG: kernel NULL pointer dereference"),
    (ex.SYSRQ_PANIC, ["panic"], "Kernel panic - not syncing: sysrq triggered crash"),
    (ex.HUNG_TASK, ["hung-task"], "INFO: task python3:301 blocked for more than"),
    (ex.SLEEP_IN_ATOMIC, ["bug"], "BUG: sleeping function called from invalid context"),
    (ex.RCU_STALL, ["rcu-stall"], "rcu: INFO: rcu_preempt self-detected stall"),
])
def test_each_report_kind_is_found_and_quoted(text, expected, headline):
    found = console.find_splats(ex.CLEAN_BOOT + text)
    assert [s.kind for s in found] == expected
    assert found[0].headline.startswith(headline)
    assert any(headline in line for line in found[0].excerpt)


def test_clean_boot_with_user_space_bug_and_warning_words_is_clean():
    assert console.find_splats(ex.CLEAN_BOOT) == []


def test_excerpt_stops_at_end_of_trace():
    (s,) = console.find_splats(ex.WARN)
    assert s.excerpt[-1].endswith("---[ end trace 0000000000000000 ]---")
    assert not any("after the report" in x for x in s.excerpt)


def test_excerpt_includes_lead_in_line():
    (s,) = console.find_splats(ex.SYSRQ_PANIC)
    assert "sysrq: Trigger a crash" in s.excerpt[0]
    assert s.line_no == 3
    assert "panic at console line 3" in s.render()


def test_kasan_excerpt_covers_alloc_and_free_stacks():
    (s,) = console.find_splats(ex.KASAN_UAF)
    text = "\n".join(s.excerpt)
    assert "Allocated by task 231" in text and "Freed by task 231" in text


def test_splat_interleaved_mid_line_with_user_output():
    text = "pytest progress ....[   12.000000] WARNING: CPU: 1 PID: 5 at net/x.c:1 f+0x1/0x2\n"
    assert kinds(text) == ["warning"]


def test_printk_caller_id_and_crlf_and_nul_are_handled():
    text = "\x00[    1.000000][  T123] BUG: KASAN: use-after-free in f+0x1/0x2\r\n"
    assert kinds(text) == ["kasan"]


def test_allow_list_suppresses_matching_report():
    import re
    assert console.find_splats(ex.WARN, allow=[re.compile(r"af_netlink\.c:1287")]) == []


def test_tail_skips_blank_lines():
    assert console.tail("a\n\n\nb\n\n", 5) == ["a", "b"]
