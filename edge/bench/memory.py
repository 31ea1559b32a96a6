"""Peak memory of this process, with nothing but the standard library imported, so a probe that loads one
engine and then asks measures that engine and not the benchmark's own modules."""

import resource
import sys
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB: VmHWM where /proc exists (ru_maxrss survives fork + exec on
    Linux, so a child would report its parent's peak), else ru_maxrss (bytes on macOS)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20 if sys.platform == "darwin" else 1 << 10)
