"""Bisection's search with fake oracles (no build, no boot): first bad prefix, reruns of
failures, flaky prefixes, skipped prefixes, ends that do not behave."""

import pytest

from vm import bisect


class Oracle:
    """prefix k fails from ``first_bad`` on; ``flaky`` prefixes fail on their first run
    only, ``broken`` prefixes cannot be judged (error); records every call."""

    def __init__(self, first_bad, flaky=(), broken=()):
        self.first_bad, self.flaky, self.broken = first_bad, set(flaky), set(broken)
        self.calls = []

    def __call__(self, k):
        self.calls.append(k)
        if k in self.broken:
            return "error", f"prefix {k} does not build"
        if k in self.flaky and self.calls.count(k) == 1:
            return "fail", "test_x[kernel]"
        return ("fail", "test_x[kernel]") if k >= self.first_bad else ("pass", "PASS")


@pytest.mark.parametrize("first_bad", range(1, 20))
def test_finds_the_first_bad_prefix_anywhere(first_bad):
    o = Oracle(first_bad)
    res = bisect.search(o, good=0, bad=19)
    assert res.first_bad == first_bad
    assert (res.lo, res.hi) == (first_bad - 1, first_bad)
    assert len(set(o.calls)) <= 2 + 5  # both ends + log2(19) rounded up
    # every failure was confirmed by a second run, no pass was repeated
    for k in set(o.calls):
        assert o.calls.count(k) == (2 if k >= first_bad else 1)
    assert not res.flaky and not res.skipped


def test_transcript_names_the_patch():
    names = [f"{i:04d}-p.patch" for i in range(1, 19)]
    names.insert(5, "mutant-x.diff")
    res = bisect.search(Oracle(6), good=5, bad=19)
    text = bisect.render(res, names)
    assert text.splitlines()[0] == "| # | prefix | last patch | runs | verdict | seconds |"
    assert "| 1 | 19/19 | `0018-p.patch` | fail, fail | bad |" in text
    assert "| 2 | 5/19 | `0005-p.patch` | pass | good |" in text
    assert text.rstrip().endswith("first bad patch: mutant-x.diff (6/19)")


def test_flaky_failure_counts_as_good_and_is_reported():
    o = Oracle(first_bad=12, flaky={6, 9})
    res = bisect.search(o, good=0, bad=18)
    assert res.first_bad == 12
    assert 9 in res.flaky or 6 in res.flaky
    step = next(s for s in res.steps if s.verdict == bisect.FLAKY)
    assert step.runs == ["fail", "pass"] and "passed on the rerun" in step.detail
    text = bisect.render(res, [f"p{i}" for i in range(1, 19)])
    assert "flaky (failed once, passed on the rerun; counted good): prefixes" in text


def test_unbuildable_prefixes_are_skipped_around():
    o = Oracle(first_bad=7, broken={9, 5})
    res = bisect.search(o, good=0, bad=16)
    assert res.first_bad == 7
    assert set(res.skipped) <= {5, 9}


def test_skipped_prefix_next_to_the_answer_leaves_a_range():
    o = Oracle(first_bad=7, broken={6})
    res = bisect.search(o, good=0, bad=8)
    assert res.first_bad is None and (res.lo, res.hi) == (5, 7)
    text = bisect.render(res, [f"p{i}" for i in range(1, 9)])
    assert "first bad patch: one of prefixes 6..7 (p6, p7): skipped 6" in text


def test_bad_end_that_passes_or_is_flaky():
    with pytest.raises(bisect.BisectError, match="passes at the bad end"):
        bisect.search(Oracle(first_bad=99), good=0, bad=18)
    with pytest.raises(bisect.BisectError, match="does not reproduce") as e:
        bisect.search(Oracle(first_bad=99, flaky={18}), good=0, bad=18)
    assert [s.verdict for s in e.value.result.steps] == [bisect.FLAKY]


def test_good_end_that_fails_says_to_start_later():
    with pytest.raises(bisect.BisectError, match="fails at the good end too .*later --good"):
        bisect.search(Oracle(first_bad=0), good=0, bad=18)
    with pytest.raises(bisect.BisectError, match="good=5 bad=5"):
        bisect.search(Oracle(first_bad=1), good=5, bad=5)


def test_flaky_good_end_is_good():
    res = bisect.search(Oracle(first_bad=4, flaky={0}), good=0, bad=8)
    assert res.first_bad == 4 and res.flaky == [0]


def test_next_candidate_prefers_the_middle():
    assert bisect._next(0, 10, set()) == 5
    assert bisect._next(0, 10, {5}) == 4
    assert bisect._next(0, 10, {5, 4}) == 6
    assert bisect._next(3, 4, set()) is None
    assert bisect._next(3, 5, {4}) is None
