"""One-line, actionable errors.

Every failure the harness can diagnose is raised as a :class:`GateError` carrying a
one-line message and, where useful, where to look next (a log file, a command).  The CLI
prints exactly ``gate: error: <message>`` and ``gate:   see: <hint>`` and exits 2.
"""

from __future__ import annotations


class GateError(Exception):
    """A diagnosed failure: ``message`` is one line, ``hint`` says where to look."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = " ".join(message.split()) if "\n" in message else message
        self.hint = hint

    def render(self) -> str:
        out = f"gate: error: {self.message}"
        if self.hint:
            out += f"\ngate:   see: {self.hint}"
        return out


class NoSeries(GateError):
    """patches/series is missing or lists no patch."""


class PatchDoesNotApply(GateError):
    """A patch of the series does not apply (names the patch and the file/hunk)."""


class ConfigDropped(GateError):
    """A requested Kconfig option did not survive olddefconfig."""


class BuildFailed(GateError):
    """make failed; the hint names the full build log."""


class ToolMissing(GateError):
    """qemu, virtme-ng, apt, ... is missing or unusable."""
