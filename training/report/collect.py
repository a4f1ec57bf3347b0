"""The results JSON files under a folder, sorted by what they hold (the package docstring lists
the kinds)."""

from __future__ import annotations

import json
from pathlib import Path


#: Results of other systems than the paper's 2D mixture: the 3D campaign (docs/ka3d.md, the
#: report's 3D part) and the own-system example (docs/own-system.md).
OTHER_SYSTEMS = {"ka3d", "own_system"}


def collect(results_dir, system: str | None = None) -> dict[str, list[tuple[Path, dict]]]:
    """Every results JSON under ``results_dir``, grouped by what it holds: the paper's system's
    (default), or those of ``system`` (one of `OTHER_SYSTEMS`, a folder name in their path)."""
    groups: dict[str, list] = {k: [] for k in ("crossval", "cross_dataset", "size_transfer",
                                               "attention_statistics", "baselines", "window_baselines",
                                               "tg", "tg_by_runs", "metrics", "campaign", "cnn_pilot",
                                               "crossval_variant", "crossval_variant_partial",
                                               "heldout")}
    for path in sorted(Path(results_dir).rglob("*.json")):
        parts = set(path.relative_to(results_dir).parts)
        if (system not in parts) if system else (OTHER_SYSTEMS & parts):
            continue
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if not isinstance(data, dict):
            continue
        kind = data.get("kind")
        if (path.name == "protocol.json" and "crossval_variants" in path.parts
                and not (path.parent / "crossval.json").exists()):
            # a variant still running: its finished folds, beside the same folds of the original
            folds = [json.loads(f.read_text()) for f in sorted(path.parent.glob("fold*/result.json"))]
            if folds:
                groups["crossval_variant_partial"].append((path, dict(data, folds=folds)))
        elif kind == "crossval" and "crossval_variants" in path.parts:
            # a variant of a protocol (results/paper/crossval_variants/): printed beside the
            # cross-validation it varies, never in its place
            groups["crossval_variant"].append((path, data))
        elif kind in groups:
            groups[kind].append((path, data))
        elif "cooling" in data and "crossing_temperature" in data:
            groups["heldout"].append((path, data))    # `glassml heldout` before it wrote its kind
        elif "tg" in data and "t_cool" in data and "n_runs" in data:
            groups["tg"].append((path, data))
        elif str(data.get("model", "")).startswith("y = a0") and "metrics" in data:
            groups["metrics"].append((path, data))
    return groups
