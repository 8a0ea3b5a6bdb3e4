"""Fixtures: ``backend`` runs each scenario on the model (unmarked, anywhere) and on the
kernel (marker ``kernel``: only meaningful in the gate's guest; elsewhere it fails with
"feature absent", it is never skipped)."""

from __future__ import annotations

import pytest

from .backends import make_backend


@pytest.fixture(params=["model", pytest.param("kernel", marks=pytest.mark.kernel)])
def backend(request):
    b = make_backend(request.param)
    try:
        yield b
    finally:
        b.close_all()


@pytest.fixture
def kernel_backend():
    """Kernel-only scenarios (real subsystems): the kernel without the model."""
    b = make_backend("kernel-only")
    try:
        yield b
    finally:
        b.close_all()
