from pathlib import Path

from vm import boot


def test_vng_command_tcg_rwdir_exec():
    cmd = boot.vng_command("vng", Path("/k/bzImage"), accel="tcg", memory="4G", cpus=2,
                           rwdirs=[Path("/c/runs/x")], exec_cmd="sh /c/runs/x/guest.sh",
                           cwd=Path("/work/main"))
    assert cmd[:3] == ["vng", "--run", "/k/bzImage"]
    assert "--disable-kvm" in cmd
    assert cmd[cmd.index("--rwdir") + 1] == "/c/runs/x"
    assert cmd[cmd.index("--memory") + 1] == "4G"
    assert cmd[-2:] == ["--exec", "sh /c/runs/x/guest.sh"]
    appended = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--append"]
    assert "printk.time=1" in appended and "panic=-1" in appended
    assert "no_timer_check" in appended  # a starved TCG vCPU fails the boot-time timer check


def test_user_append_comes_after_the_defaults():
    """--append no5lvl (say): a later duplicate on the kernel command line wins."""
    cmd = boot.vng_command("vng", Path("/k/bzImage"), accel="tcg", memory="1G", cpus=1,
                           rwdirs=[], exec_cmd=None, append=("no5lvl", "panic=10"))
    appended = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--append"]
    assert appended[-2:] == ["no5lvl", "panic=10"] and appended.index("panic=-1") < 2


def test_kvm_command_has_no_disable_flag():
    cmd = boot.vng_command("vng", Path("/k/bzImage"), accel="kvm", memory="1G", cpus=1,
                           rwdirs=[], exec_cmd=None)
    assert "--disable-kvm" not in cmd and "--exec" not in cmd


def test_guest_script_reports_status_even_after_exit():
    text = boot.GUEST_SCRIPT.format(cwd="/work/main", run_dir="/r", command="exit 7")
    body = text.split("(\n", 1)[1]
    assert body.startswith("exit 7\n)\nrc=$?")
    assert "echo $rc > /r/status" in text and "dmesg > /r/dmesg.txt" in text


def test_tcg_thread_mode_goes_to_qemu_only_for_smp_tcg():
    def cmd(accel, cpus, mode):
        return boot.vng_command("vng", Path("/k/bzImage"), accel=accel, memory="1G",
                                cpus=cpus, rwdirs=[], exec_cmd=None, tcg_thread=mode)
    # "=" form: vng's argparse would take a separate "-accel ..." for an option
    assert "--qemu-opts=-accel tcg,thread=single" in cmd("tcg", 2, "single")
    assert "--qemu-opts=-accel tcg,thread=multi" in cmd("tcg", 2, "multi")
    assert not [a for a in cmd("tcg", 1, "single") + cmd("kvm", 2, "single")
                if a.startswith("--qemu-opts")]
