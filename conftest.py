"""Rule ids in test names are checked against the catalogue when the tests are collected:
``test_r4_99_x`` is a collection error, not a silently uncounted test."""

from __future__ import annotations

import pytest

from spec import cited_in_name, known


def pytest_collection_modifyitems(config, items):
    bad = sorted({f"{item.nodeid}: {c}" for item in items
                  for c in cited_in_name(getattr(item, "originalname", item.name))
                  if not known(c)})
    if bad:
        raise pytest.UsageError("rule ids not in spec/rules.toml:\n  " + "\n  ".join(bad))
