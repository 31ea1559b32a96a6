"""The facts a benchmark number depends on: machine, Python, numpy, interpreter package, versions, time."""

import os
import platform
import sys
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from edge import __version__
from edge.runtime import interpreter_class


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"


def environment() -> dict:
    """Platform, machine, CPUs, load, Python, numpy and its OPENBLAS_NUM_THREADS (unset: one BLAS thread per core,
    whose spinning multiplies CPU time on a busy machine), TFLite interpreter package + version, edge-emotion, UTC
    time."""
    backend, _ = interpreter_class("auto")
    return {
        "platform": platform.platform(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2), "python": sys.version.split()[0], "numpy": np.__version__,
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
        "interpreter": backend, "interpreter_version": _version(backend), "edge_emotion": __version__,
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
