"""``python -m vm bench`` on the host: parsing, aggregation and rendering of real guest
output (vm/tests/data/bench/: the .out files of a real run, see its README), the
programs' compilation, and the CLI's errors. The guest run itself is the command."""

import json
import statistics
from pathlib import Path

import pytest

from vm import bench, benchreport, cli

DATA = Path(__file__).parent / "data" / "bench"


def raw_samples(path: Path) -> dict[tuple[str, str, str], list[float]]:
    """The samples as the program printed them, read independently of benchreport."""
    out = {}
    for line in path.read_text().splitlines():
        if line.startswith("BENCH ") and '"samples"' in line:
            o = json.loads(line[6:])
            out[(o["row"], o["variant"], o["unit"])] = o["samples"]
    return out


@pytest.fixture
def real_run():
    outputs = {k.name: sorted(k.glob("*.out")) for k in sorted(DATA.iterdir()) if k.is_dir()}
    assert outputs and all(outputs.values()), f"no real bench output under {DATA}"
    return outputs


def test_parse_keeps_every_figure_of_a_real_run(real_run):
    for kernel, files in real_run.items():
        for f in files:
            series, counts = benchreport.parse(f.read_text(), kernel)
            raw = raw_samples(f)
            assert {(s.row, s.variant, s.unit): s.samples for s in series} == raw
            assert len(counts) == sum(1 for line in f.read_text().splitlines()
                                      if line.startswith("BENCH ") and '"per_msg"' in line)


def test_speed_is_per_repetition_against_the_first_variant(real_run):
    series, _ = benchreport.collect(real_run)
    checked = 0
    for kernel, files in real_run.items():
        raw = {}
        for f in files:
            raw.update(raw_samples(f))
        for s in (s for s in series if s.kernel == kernel):
            base_key = next(k for k in raw if k[0] == s.row and k[2] == s.unit)
            base = raw[base_key]
            mine = raw[(s.row, s.variant, s.unit)]
            if s.unit == "ns/msg":  # lower is better
                expect = [b / v for b, v in zip(base, mine, strict=True)]
            else:
                expect = [v / b for b, v in zip(base, mine, strict=True)]
            assert s.baseline == base_key[1]
            assert s.speed == pytest.approx(expect)
            assert s.speed_spread[1] == pytest.approx(statistics.median(expect))
            checked += s.variant != s.baseline
    assert checked >= 4


def test_units_decide_the_direction(real_run):
    series, _ = benchreport.collect(real_run)
    units = {s.unit for s in series}
    assert "ns/msg" in units and "pkt/s" in units, units
    for s in series:
        if s.variant == s.baseline:
            assert s.speed == pytest.approx([1.0] * len(s.samples))


def test_a_malformed_line_is_an_error_naming_it():
    text = 'x\nBENCH {"row":"tx noop","variant":"ring","unit":"ns/msg","samples":[]}\n'
    with pytest.raises(benchreport.BenchFormatError, match="line 2: no samples"):
        benchreport.parse(text, "k")
    with pytest.raises(benchreport.BenchFormatError, match="line 1"):
        benchreport.parse('BENCH {"row": "tx"', "k")


def test_markdown_has_every_series_its_speed_and_the_seed(real_run):
    series, counts = benchreport.collect(real_run)
    md = benchreport.markdown(series, counts, {"host": "test"})
    for s in series:
        lo, med, hi = s.speed_spread
        cell = "1 (baseline)" if s.variant == s.baseline else \
            f"**{med:.2f}x** ({lo:.2f}–{hi:.2f})"
        assert f"| {s.row} | {s.variant} | {s.kernel} | {s.unit} |" in md
        assert cell in md
    assert "| nfqueue batch 10 | 1590 | 1770 | 1.11x |" in md  # the seed's row
    assert md.count("\n| ") >= len(series) + len(counts)


def test_across_kernels_compares_medians_of_the_same_variant(real_run):
    series, counts = benchreport.collect(real_run)
    md = benchreport.markdown(series, counts, {})
    kernels = list(dict.fromkeys(s.kernel for s in series))
    assert len(kernels) == 2
    first = {(s.row, s.variant, s.unit): s for s in series if s.kernel == kernels[0]}
    for s in (s for s in series if s.kernel == kernels[1]):
        f = first[(s.row, s.variant, s.unit)]
        m0, m1 = statistics.median(f.samples), statistics.median(s.samples)
        expect = m0 / m1 if s.unit == "ns/msg" else m1 / m0
        assert f"| {s.row} | {s.variant} | {s.unit} | {expect:.3f}x |" in md


def test_json_round_trips_the_spreads(real_run):
    series, counts = benchreport.collect(real_run)
    doc = json.loads(benchreport.to_json(series, counts, {"host": "test"}))
    assert len(doc["series"]) == len(series) and len(doc["per_msg"]) == len(counts)
    for d, s in zip(doc["series"], series, strict=True):
        assert (d["min"], d["median"], d["max"]) == pytest.approx(s.spread)


def test_chart_is_a_png(real_run, tmp_path):
    series, _ = benchreport.collect(real_run)
    benchreport.chart(series, tmp_path / "b.png")
    data = (tmp_path / "b.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_every_program_compiles_without_warnings(tmp_path):
    bins = bench.compile_programs(list(bench.PROGRAMS), tmp_path)
    assert sorted(bins) == sorted(bench.PROGRAMS)
    assert all(p.stat().st_size > 0 for p in bins.values())


@pytest.mark.parametrize("argv, message", [
    (["--kernel", "noequals"], "is not LABEL=BZIMAGE"),
    (["--kernel", "a b=/x"], "is not LABEL=BZIMAGE"),
    (["--rows", "tx,nope"], "unknown row(s) nope"),
])
def test_bad_arguments_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        cli.main(["bench", *argv])
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_missing_kernel_image_is_one_line(capsys, tmp_path):
    rc = cli.main(["bench", "--kernel", f"k={tmp_path / 'bz'}"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith(f"gate: error: bench: kernel image {tmp_path / 'bz'}")


def test_duplicate_labels_are_refused(capsys, tmp_path):
    bz = tmp_path / "bz"
    bz.write_bytes(b"x")
    rc = cli.main(["bench", "--kernel", f"k={bz}", "--kernel", f"k={bz}"])
    assert rc == 2 and "label(s) used twice: k" in capsys.readouterr().err


def test_missing_matplotlib_is_said_before_any_boot(capsys, tmp_path, monkeypatch):
    """The gate's venv has no matplotlib: a bench run from it measured every kernel and
    then died in the chart with a traceback."""
    real = bench.importlib.util.find_spec
    monkeypatch.setattr(bench.importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    monkeypatch.setattr(bench.boot, "run", lambda *a, **k: pytest.fail("booted"))
    bz = tmp_path / "bz"
    bz.write_bytes(b"x")
    rc = cli.main(["bench", "--kernel", f"k={bz}"])
    err = capsys.readouterr().err
    assert rc == 2 and "matplotlib is missing" in err and "tox -e bench" in err


def test_boots_of_one_image_are_grouped_against_the_first_group(real_run):
    """Two labels per image, alternated (y n y n): each group is the median of its boots'
    medians; the second group's speed is against the first's; the first group's spread
    between its own boots is given beside it."""
    series, counts = benchreport.collect(real_run)
    a, b = list(dict.fromkeys(s.kernel for s in series))
    scale = {a: 1.1, b: 1.25}  # a second boot of each image, slower than the first
    twice = series + [benchreport.Series(s.kernel + "-2", s.row, s.variant, s.unit,
                                         [v * (scale[s.kernel] if s.unit == "ns/msg"
                                               else 1 / scale[s.kernel]) for v in s.samples])
                      for s in series]
    images = {a: "A", b: "B", a + "-2": "A", b + "-2": "B"}
    md = benchreport.markdown(twice, counts, {}, images)
    assert f"alternated boots: {a} {a}-2; {b} {b}-2" in md
    s0 = next(s for s in series if s.kernel == a and s.unit == "ns/msg")
    s1 = next(s for s in series if s.kernel == b and (s.row, s.variant) == (s0.row, s0.variant))
    ma, mb = statistics.median(s0.samples), statistics.median(s1.samples)
    ga, gb = (ma + ma * 1.1) / 2, (mb + mb * 1.25) / 2  # median of two boots: their mean
    own = sorted([ga / ma, ga / (ma * 1.1)])
    assert (f"| {s0.row} | {s0.variant} | ns/msg | {benchreport._fmt(ga)} | "
            f"{benchreport._fmt(gb)} | {ga / gb:.3f}x | {own[0]:.3f}–{own[1]:.3f} |") in md
    # each image booted once: no grouped table
    assert "alternated boots" not in benchreport.markdown(series, counts, {}, {a: "A", b: "B"})
