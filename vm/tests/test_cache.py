import fcntl
import threading
import time

from vm import cache


def test_key_is_stable_and_depends_on_every_input():
    k = cache.cache_key("linux-source-6.12 6.12.117-1~deb12u1", "s" * 64, "CONFIG_X=y\n")
    assert k == cache.cache_key("linux-source-6.12 6.12.117-1~deb12u1", "s" * 64, "CONFIG_X=y\n")
    assert len(k) == 64
    others = {
        cache.cache_key("linux-source-6.12 6.12.118-1", "s" * 64, "CONFIG_X=y\n"),
        cache.cache_key("linux-source-6.12 6.12.117-1~deb12u1", "t" * 64, "CONFIG_X=y\n"),
        cache.cache_key("linux-source-6.12 6.12.117-1~deb12u1", "s" * 64, "CONFIG_X=m\n"),
    }
    assert k not in others and len(others) == 3


def test_field_boundaries_matter():
    assert cache.cache_key("a", "bc", "") != cache.cache_key("ab", "c", "")


def _artifacts(tmp_path):
    bz, cfg, lg = tmp_path / "bz", tmp_path / "cfg", tmp_path / "log"
    bz.write_bytes(b"\x7fkernel" * 1000)
    cfg.write_text("CONFIG_X=y\n")
    lg.write_text("  CC x.o\n")
    return bz, cfg, lg


def test_store_then_valid(tmp_path):
    e = cache.Entry(tmp_path / "c", "ab" * 32)
    assert e.problem() == "absent"
    e.store(*_artifacts(tmp_path), {"series": []})
    assert e.valid()
    assert e.meta()["key"] == "ab" * 32


def test_corrupt_bzimage_is_detected(tmp_path):
    e = cache.Entry(tmp_path / "c", "ab" * 32)
    e.store(*_artifacts(tmp_path), {})
    with e.bzimage.open("r+b") as f:
        f.seek(3)
        f.write(b"X")
    assert e.problem() == "bzImage checksum mismatch"


def test_partial_entry_without_manifest_is_detected(tmp_path):
    e = cache.Entry(tmp_path / "c", "ab" * 32)
    e.store(*_artifacts(tmp_path), {})
    (e.dir / cache.MANIFEST).unlink()
    assert e.problem() == "partial (no MANIFEST)"
    e.store(*_artifacts(tmp_path), {})
    e.build_log.unlink()
    assert e.problem() == "build.log missing"
    (e.dir / cache.MANIFEST).write_text("{not json")
    assert e.problem() == "corrupt MANIFEST"


def test_lock_excludes_a_second_holder(tmp_path):
    lock = tmp_path / "build.lock"
    order = []
    with cache.locked(lock, "test"):
        with lock.open("a") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                order.append("second got it")
            except BlockingIOError:
                order.append("second blocked")

        def waiter():
            with cache.locked(lock, "waiter"):
                order.append("waiter in")

        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.2)
        order.append("first out")
    t.join(5)
    assert order == ["second blocked", "first out", "waiter in"]
