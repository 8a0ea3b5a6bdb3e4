"""Benchmark results: parse the ``BENCH {json}`` lines of bench/*.c, aggregate, render.

Each row of a bench program compares variants in the same guest run; its first variant
is the baseline. A variant's *speed* against the baseline is computed per repetition
(repetitions are interleaved, so rep i of every variant ran under the same conditions)
and reported as min/median/max: > 1 means faster than the baseline, whatever the unit
(``ns/msg`` is lower-is-better, rates are higher-is-better).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

LOWER_IS_BETTER = {"ns/msg"}

# The cover letter of the seed series (2013): 1400-byte UDP, NFQUEUE over 4 queues, 8
# cores, inline Snort; RX ring with regular TX ("mnl") vs recvmsg ("nfq"). Batch 0 is
# one verdict per packet (our "batch 1").
SEED_NFQUEUE = {
    "nfqueue batch 1": {"recvmsg": 1250.0, "ring": 1230.0},
    "nfqueue batch 10": {"recvmsg": 1590.0, "ring": 1770.0},
}
SEED_UNIT = "Mbit/s"


class BenchFormatError(ValueError):
    """A BENCH line that is not the documented JSON object."""


@dataclass
class Series:
    """One variant of one row in one kernel's run, with its spread."""
    kernel: str
    row: str
    variant: str
    unit: str
    samples: list[float]
    baseline: str = ""
    speed: list[float] = field(default_factory=list)  # per repetition, vs the baseline

    @property
    def spread(self) -> tuple[float, float, float]:
        return _mmm(self.samples)

    @property
    def speed_spread(self) -> tuple[float, float, float] | None:
        return _mmm(self.speed) if self.speed else None


@dataclass
class Counts:
    kernel: str
    row: str
    variant: str
    per_msg: dict[str, float]


def _mmm(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def parse(text: str, kernel: str) -> tuple[list[Series], list[Counts]]:
    """The figures in one program's output; other lines are ignored."""
    series, counts = [], []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.startswith("BENCH "):
            continue
        try:
            obj = json.loads(line[len("BENCH "):])
            row, variant = obj["row"], obj["variant"]
            if "samples" in obj:
                samples = [float(v) for v in obj["samples"]]
                if not samples:
                    raise ValueError("no samples")
                series.append(Series(kernel, row, variant, obj["unit"], samples))
            else:
                counts.append(Counts(kernel, row, variant,
                                     {k: float(v) for k, v in obj["per_msg"].items()}))
        except (ValueError, KeyError, TypeError) as e:
            raise BenchFormatError(f"line {n}: {e}: {line[:120]}") from None
    return series, counts


def add_speeds(series: list[Series]) -> None:
    """Give every variant its per-repetition speed against its row's baseline."""
    base: dict[tuple[str, str, str], Series] = {}
    for s in series:
        base.setdefault((s.kernel, s.row, s.unit), s)
    for s in series:
        b = base[(s.kernel, s.row, s.unit)]
        s.baseline = b.variant
        pairs = zip(b.samples, s.samples, strict=True)
        if s.unit in LOWER_IS_BETTER:
            s.speed = [bv / v for bv, v in pairs if v > 0]
        else:
            s.speed = [v / bv for bv, v in pairs if bv > 0]


def collect(outputs: dict[str, list[Path]]) -> tuple[list[Series], list[Counts]]:
    """Parse every kernel's output files ({kernel label: [files]}) and add speeds."""
    series, counts = [], []
    for kernel, files in outputs.items():
        for f in files:
            s, c = parse(f.read_text(errors="replace"), kernel)
            series += s
            counts += c
    add_speeds(series)
    return series, counts


def _faster(unit: str, ref: float, v: float) -> float:
    """How much faster ``v`` is than ``ref`` (> 1: faster), whatever the unit's direction."""
    return ref / v if unit in LOWER_IS_BETTER else v / ref


def across(first: Series, other: Series) -> float:
    """``other``'s median speed against ``first``'s (same row and variant, another run)."""
    return _faster(first.unit, first.spread[1], other.spread[1])


def by_image(series: list[Series], images: dict[str, str],
             index: dict[tuple[str, str, str, str], Series]) -> list[str]:
    """Markdown lines comparing kernel images each booted more than once (``images``:
    label -> image path). Between two boots of one image the noise is often larger than
    the effect sought (``CONFIG_NETLINK_MMAP=y`` against ``=n``), so boots are alternated
    and compared as groups: each group's median of its per-boot medians, its speed
    against the first group, and the first group's own spread between boots (its boot
    medians as speeds against its median): a speed inside that spread is noise.
    ``index``: the series by (kernel, row, variant, unit), as :func:`markdown` keys them."""
    groups: dict[str, list[str]] = {}
    for label in dict.fromkeys(s.kernel for s in series):
        groups.setdefault(images.get(label, label), []).append(label)
    if len(groups) < 2 or min(len(g) for g in groups.values()) < 2:
        return []
    names = [" ".join(g) for g in groups.values()]
    out = ["", "Boots of the same image grouped (alternated boots: " + "; ".join(names)
           + "). Median of the per-boot medians; speed against the first group (> 1 is "
           "faster); the first group's spread between its own boots:", "",
           "| row | variant | unit | " + " | ".join(f"group {i + 1}" for i in range(len(groups)))
           + " | " + " | ".join(f"group {i + 1} vs 1" for i in range(1, len(groups)))
           + " | group 1 boot spread |",
           "|---|---|---|" + "---:|" * (2 * len(groups))]
    for row, variant, unit in dict.fromkeys((s.row, s.variant, s.unit) for s in series):
        medians = [[index[k, row, variant, unit].spread[1] for k in g
                    if (k, row, variant, unit) in index] for g in groups.values()]
        if not all(medians):
            continue
        value = [statistics.median(m) for m in medians]
        own = sorted(_faster(unit, value[0], m) for m in medians[0])
        out.append(f"| {row} | {variant} | {unit} | " + " | ".join(_fmt(v) for v in value)
                   + " | " + " | ".join(f"{_faster(unit, value[0], v):.3f}x" for v in value[1:])
                   + f" | {own[0]:.3f}–{own[-1]:.3f} |")
    return out


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"


def _speed(s: Series) -> str:
    sp = s.speed_spread
    if s.variant == s.baseline or sp is None:
        return "1 (baseline)"
    return f"**{sp[1]:.2f}x** ({sp[0]:.2f}–{sp[2]:.2f})"


COUNT_COLUMNS = [
    ("syscalls", "syscalls"),
    ("lookups", "portid lookups"),
    ("request_bytes", "request bytes"),
    ("kmalloc", "kmalloc"),
    ("kmem_cache_alloc", "slab allocs"),
    ("kmalloc_bytes_alloc+kmem_cache_alloc_bytes_alloc", "bytes allocated"),
    ("page_alloc", "page allocs"),
    ("vmap", "vmaps"),
    ("tx_copy_len", "TX bytes copied (frame→skb)"),
    ("tx_zerocopy", "TX frames in place"),
    ("rx_deliver_len", "RX bytes copied (skb→frame)"),
    ("rx_copy", "COPY frames"),
    ("recv_bytes+reply_bytes", "bytes recv()ed (kernel→user)"),
]


def _count(c: Counts, key: str) -> str:
    parts = [c.per_msg[k] for k in key.split("+") if k in c.per_msg]
    if not parts:
        return ""
    if any(p < 0 for p in parts):
        return "n/a"  # not counted: no such event, or not traced in a baseline-only run
    return _fmt(sum(parts))


def markdown(series: list[Series], counts: list[Counts], conditions: dict,
             images: dict[str, str] | None = None) -> str:
    kernels = list(dict.fromkeys(s.kernel for s in series))
    index = {(s.kernel, s.row, s.variant, s.unit): s for s in series}
    out = ["# Benchmark", ""]
    out += [f"- {k}: {v}" for k, v in conditions.items()]
    out += ["", "Speed: against the row's baseline in the same guest run, per repetition "
            "(repetitions interleaved), median (min–max); > 1 is faster.", ""]
    out += ["| row | variant | kernel | unit | min | median | max | speed |",
            "|---|---|---|---|---:|---:|---:|---|"]
    for s in series:
        lo, med, hi = s.spread
        out.append(f"| {s.row} | {s.variant} | {s.kernel} | {s.unit} | {_fmt(lo)} | "
                   f"{_fmt(med)} | {_fmt(hi)} | {_speed(s)} |")
    if len(kernels) > 1:
        out += ["", "Median speed against the baseline, kernel by kernel (each from its "
                "own run):", "",
                "| row | variant | unit | " + " | ".join(kernels) + " |",
                "|---|---|---|" + "---:|" * len(kernels)]
        for row, variant, unit in dict.fromkeys((s.row, s.variant, s.unit) for s in series):
            cells = []
            for k in kernels:
                s = index.get((k, row, variant, unit))
                sp = s.speed_spread if s else None
                cells.append(f"{sp[1]:.2f}x" if sp else "")
            out.append(f"| {row} | {variant} | {unit} | " + " | ".join(cells) + " |")
    if len(kernels) > 1:
        out += ["", f"Median against the same variant on {kernels[0]} (different guest runs: "
                "includes run-to-run noise; > 1 is faster):", "",
                "| row | variant | unit | " + " | ".join(kernels[1:]) + " |",
                "|---|---|---|" + "---:|" * (len(kernels) - 1)]
        for row, variant, unit in dict.fromkeys((s.row, s.variant, s.unit) for s in series):
            first = index.get((kernels[0], row, variant, unit))
            cells = []
            for k in kernels[1:]:
                s = index.get((k, row, variant, unit))
                cells.append(f"{across(first, s):.3f}x" if first and s else "")
            out.append(f"| {row} | {variant} | {unit} | " + " | ".join(cells) + " |")
    out += by_image(series, images or {}, index)
    if counts:
        out += ["", "Per message (packet, request, dumped object), from tracefs in a counted "
                "pass (not timed); machine-independent:", "",
                "| row | variant | kernel | " + " | ".join(h for _, h in COUNT_COLUMNS) + " |",
                "|---|---|---|" + "---:|" * len(COUNT_COLUMNS)]
        for c in counts:
            out.append(f"| {c.row} | {c.variant} | {c.kernel} | "
                       + " | ".join(_count(c, k) for k, _ in COUNT_COLUMNS) + " |")
    out += ["", f"Seed (cover letter, 2013; 8 cores, 4 queues, inline Snort, RX ring with "
            f"regular TX), {SEED_UNIT}:", "", "| row | recvmsg | ring | speed |",
            "|---|---:|---:|---:|"]
    for row, v in SEED_NFQUEUE.items():
        out.append(f"| {row} | {v['recvmsg']:.0f} | {v['ring']:.0f} | "
                   f"{v['ring'] / v['recvmsg']:.2f}x |")
    return "\n".join(out) + "\n"


def to_json(series: list[Series], counts: list[Counts], conditions: dict) -> str:
    rows = []
    for s in series:
        d = asdict(s)
        d["min"], d["median"], d["max"] = s.spread
        sp = s.speed_spread
        d["speed_min"], d["speed_median"], d["speed_max"] = sp if sp else (None,) * 3
        rows.append(d)
    return json.dumps({"conditions": conditions, "series": rows,
                       "per_msg": [asdict(c) for c in counts],
                       "seed": {"unit": SEED_UNIT, "rows": SEED_NFQUEUE}}, indent=1) + "\n"


def chart(series: list[Series], path: Path) -> None:
    """One PNG: median speed against the baseline with min–max bars, ours per kernel
    next to the seed's (nfqueue rows only: the seed has no other figures)."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kernels = list(dict.fromkeys(s.kernel for s in series))
    keys = list(dict.fromkeys((s.row, s.variant) for s in series
                              if s.variant != s.baseline and s.unit != "Mbit/s"))
    index = {(s.kernel, s.row, s.variant): s for s in series if s.unit != "Mbit/s"}
    groups = kernels + ["seed (2013)"]
    height = 0.8 / len(groups)
    fig, ax = plt.subplots(figsize=(9, 1.0 + 0.55 * len(keys) * len(groups) ** 0.5))
    for gi, g in enumerate(groups):
        ys, meds, errs = [], [], [[], []]
        for ki, (row, variant) in enumerate(keys):
            if g == groups[-1]:
                seed = SEED_NFQUEUE.get(row)
                if not seed or variant not in seed:
                    continue
                lo = med = hi = seed[variant] / seed["recvmsg"]
            else:
                s = index.get((g, row, variant))
                if s is None or not s.speed:
                    continue
                lo, med, hi = s.speed_spread
            ys.append(ki + gi * height)
            meds.append(med)
            errs[0].append(med - lo)
            errs[1].append(hi - med)
        if ys:
            ax.barh(ys, meds, height=height, xerr=errs, label=g, capsize=2)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks([k + height * (len(groups) - 1) / 2 for k in range(len(keys))])
    ax.set_yticklabels([f"{r}: {v}" for r, v in keys])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(base=2))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%.2gx"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_title("ring variants against their baseline, ours per kernel and the seed's")
    ax.set_xlabel("speed against the row's baseline (same run; > 1 is faster)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
