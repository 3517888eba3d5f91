"""CPU time and memory of a process, and how busy the machine is, read from Linux's ``/proc`` (no dependency).

``/proc/PID/stat`` holds the process's user and system CPU time in clock ticks, summed over all its threads (so
CTranslate2's worker threads count); ``/proc/PID/status`` its resident memory (``VmRSS``); ``/proc/stat`` the
whole machine's busy and idle time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from omni.errors import ConfigError

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(stat: str, ticks: int = CLOCK_TICKS) -> float:
    """User + system CPU seconds from the text of ``/proc/PID/stat``.

    The second field (the command name) is in parentheses and may hold spaces or parentheses itself, so the fields
    are counted from the last ``)``: utime and stime are fields 14 and 15 of the whole line.
    """
    _, closing, rest = stat.rpartition(")")
    if not closing:
        raise ValueError("not a /proc/PID/stat line")
    fields = rest.split()
    # rest starts at field 3 (state): utime (14) is fields[11], stime (15) fields[12]
    return (int(fields[11]) + int(fields[12])) / ticks


def rss_bytes(status: str) -> int:
    """Resident memory from the text of ``/proc/PID/status`` (its ``VmRSS:  1234 kB`` line)."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            value, unit = line.split()[1:3]
            if unit != "kB":
                raise ValueError(f"unexpected VmRSS unit {unit!r}")
            return int(value) * 1024
    raise ValueError("no VmRSS line (a kernel thread, or a process that has exited)")


def machine_times(stat: str) -> tuple[float, float]:
    """(busy, total) jiffies of all cores from the text of ``/proc/stat``; idle and iowait count as not busy."""
    for line in stat.splitlines():
        if line.startswith("cpu "):
            values = [float(v) for v in line.split()[1:]]
            # user nice system idle iowait irq softirq steal [guest guest_nice: already inside user and nice]
            total = sum(values[:8])
            return total - values[3] - values[4], total
    raise ValueError("no cpu line in /proc/stat")


def busy_percent(before: tuple[float, float], after: tuple[float, float]) -> float | None:
    """Percent of the machine's cores busy between two :func:`machine_times` readings."""
    total = after[1] - before[1]
    return None if total <= 0 else 100 * (after[0] - before[0]) / total


@dataclass(frozen=True)
class Sample:
    cpu_seconds: float
    rss_bytes: int


class ProcessProbe:
    """Reads one process's CPU time and memory; Linux only."""

    def __init__(self, pid: int, proc: Path = Path("/proc")) -> None:
        self.pid = pid
        self.dir = proc / str(pid)
        self.proc = proc
        if not (self.dir / "stat").exists():
            raise ConfigError(f"cannot read {self.dir}/stat: the scale benchmark measures processes through "
                              "Linux's /proc (Linux only)")

    def sample(self) -> Sample:
        stat = (self.dir / "stat").read_text(encoding="ascii", errors="replace")
        status = (self.dir / "status").read_text(encoding="ascii", errors="replace")
        return Sample(cpu_seconds(stat), rss_bytes(status))

    def machine(self) -> tuple[float, float]:
        return machine_times((self.proc / "stat").read_text(encoding="ascii"))
