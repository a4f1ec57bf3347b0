"""What a result file records about how it was made: command line, wall time, machine, versions."""

from __future__ import annotations

import os
import platform
import shlex
import socket
import sys
import time
from pathlib import Path

from ovito_glassml import __version__


def provenance(started: float, command: str | None = None) -> dict:
    """Wall time since ``started`` (``time.time()``), the command line and the machine."""
    if command is None:
        argv0 = Path(sys.argv[0]).name
        command = shlex.join(["glassml", *sys.argv[1:]] if argv0 == "glassml" else sys.argv)
    import torch

    return {"command": command, "wall_seconds": round(time.time() - started, 1),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S"), "host": socket.gethostname(),
            "cpu_count": os.cpu_count(), "platform": platform.platform(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.is_available(),
            "ovito_glassml": __version__}
