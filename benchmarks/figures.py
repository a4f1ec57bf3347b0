"""How every benchmark hands out its figures: printed (without the raw timings) and, with
``--json FILE``, written whole. Benchmarks import it as a sibling module."""

from __future__ import annotations

import json
from pathlib import Path


def report(result: dict, json_path: str | None, raw: str = "all_seconds") -> dict:
    """Print ``result`` without its ``raw`` entry and write all of it to ``json_path``."""
    print(json.dumps({k: v for k, v in result.items() if k != raw}, indent=2))
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(result, indent=2) + "\n")
    return result
