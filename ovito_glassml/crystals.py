"""Crystallised glasses of a 3D campaign, found and kept out of the glass classes.

On slow cooling below T ~ 0.4, A-rich regions of the 3D Kob-Andersen mixture can order into fcc
(Coslovich, Ozawa & Kob, EPJE 2018; Pedersen, Schroder & Dyre, PRL 2018). A crystallised run's
"glass" would teach a model crystal against liquid, so every run's glass frame is checked: the
fraction of fcc, hcp and bcc particles from OVITO's adaptive common neighbour analysis
(:func:`~ovito_glassml.baselines.crystalline_fraction`), of the frame as cooled and of its
inherent structure, the larger of the two. The campaign's glasses sit near 0.1-0.3%.
"""

from __future__ import annotations

import numpy as np

#: A glass frame with more crystalline particles than this has crystallised.
CRYSTAL_THRESHOLD = 0.05
#: How the check is made, in words, for the datasets' and the campaign's records.
CRYSTAL_METHOD = ("fcc+hcp+bcc fraction (OVITO adaptive common neighbour analysis) of the glass "
                  "frame and of its inherent structure, the larger")


def glass_crystal_fractions(rows: list[dict], glass_temperature: float) -> dict[int, float]:
    """The crystalline fraction of each run's glass frame, by seed (rows of a 3D manifest, with
    absolute ``path`` and, where there is one, ``is_path``)."""
    from .baselines import crystalline_fraction
    from .frames import read_dump

    fractions = {}
    for row in rows:
        if abs(row["temperature"] - glass_temperature) > 1e-9:
            continue
        paths = [row["path"]] + ([row["is_path"]] if row.get("is_path") else [])
        fractions[int(row["seed"])] = max(crystalline_fraction(read_dump(p)) for p in paths)
    return fractions


def crystallised_seeds(fractions: dict[int, float], threshold: float = CRYSTAL_THRESHOLD) -> list[int]:
    """The runs whose glass has crystallised, sorted."""
    return sorted(seed for seed, f in fractions.items() if f > threshold)


def crystal_record(fractions: dict[int, float], threshold: float = CRYSTAL_THRESHOLD) -> dict:
    """What a dataset or a campaign summary records of the check."""
    values = np.array(list(fractions.values()))
    return {"method": CRYSTAL_METHOD, "threshold": threshold, "n_checked": len(fractions),
            "crystallised_seeds": crystallised_seeds(fractions, threshold),
            "fraction_median": float(np.median(values)) if len(values) else None,
            "fraction_max": float(values.max()) if len(values) else None}
