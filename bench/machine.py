"""The machine a benchmark ran on, and the peak memory of this process."""

from __future__ import annotations

import os
import platform
import resource
import sqlite3
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MiB.

    On Linux `getrusage`'s ru_maxrss survives fork and exec: a worker started by a parent
    holding 1 GB reports at least 1 GB. /proc's VmHWM is the high-water mark of this
    address space alone, so it is read first; ru_maxrss (KiB on Linux) is the fallback.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def machine_info() -> dict[str, str]:
    ram = _ram_gb()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": str(_cores()),
        "ram": f"{ram:.1f} GB" if ram else "unknown",
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "eventsourcing": _version("eventsourcing"),
        "textual": _version("textual"),
        "pyx12": _version("pyx12"),
        "load average at start": f"{load:.2f}" if load is not None else "unknown",
    }
