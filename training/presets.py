"""Named settings: the cross-validation protocols (paper §2.5 and a small one for tests) and the
CNN trainer's defaults (paper §2.3.2)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from ovito_glassml.errors import InputError

from .search import CNN_TABLE2, DEFAULT_STARTUP_TRIALS, DMPNN_TABLE2, GridRange, space_to_json

MODELS = ("dmpnn", "cnn")

#: The CNN trainer's defaults (``glassml train cnn``).
CNN_DROPOUT = 0.1
CNN_BATCH_SIZE = 20
CNN_EPOCHS = 10


@dataclass(frozen=True)
class CrossValPreset:
    """Settings of one nested cross-validation protocol.

    Parameters
    ----------
    name : "paper" or "small".
    folds, test_fraction : outer test sets (paper: 3 of 20%).
    inner_fractions : inner train / validation / test shares of the outer train set (80/10/10).
    iterations, epochs : TPE trials and epochs per trial (paper: 15 x 10).
    final_epochs : epochs of the model retrained on the outer train set (paper: 10).
    startup_trials : random trials before TPE models the results.
    windows_per_config : random windows scored per configuration for the D-MPNN's AUC.
    dmpnn_space, cnn_space : the search spaces (paper Table 2, or small ones for tests).
    """

    name: str
    iterations: int
    epochs: int
    final_epochs: int
    dmpnn_space: dict
    cnn_space: dict
    folds: int = 3
    test_fraction: float = 0.2
    inner_fractions: tuple = (0.8, 0.1, 0.1)
    startup_trials: int = DEFAULT_STARTUP_TRIALS
    windows_per_config: int = 10

    def space(self, model: str) -> dict:
        return dict(self.dmpnn_space if model == "dmpnn" else self.cnn_space)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["dmpnn_space"] = space_to_json(self.dmpnn_space)
        out["cnn_space"] = space_to_json(self.cnn_space)
        return out


PRESETS = {
    # the paper's protocol as written (§2.5, Table 2)
    "paper": CrossValPreset("paper", iterations=15, epochs=10, final_epochs=10,
                            dmpnn_space=DMPNN_TABLE2, cnn_space=CNN_TABLE2),
    # the 4x campaign (issue 12) on two CPU cores, 18 cross-validations: the D-MPNN of the
    # geometry issue (invariant features, RBF edges, frame neighbours) is small (h <= 64 learns
    # these datasets; Table 2's 300-2400 costs 10-100x more on a CPU) and sees 8 random windows
    # per configuration and epoch; 10 TPE trials per fold (5 after the 5 random start-up draws)
    # of 10 epochs, the paper's count; 30 epochs for the final training. The CNN (~0.1 CPU-s per
    # image and step) sees ~80 images per epoch: batches of at most 40 give it >= 2 steps per
    # epoch (Table 2's 100 would give one step per epoch). The h <= 128, 12 x 15-epoch first try
    # took 1.5 min for one random D-MPNN draw and > 11 min for the next: ~2 core-hours a dataset
    "campaign": CrossValPreset(
        "campaign", iterations=10, epochs=10, final_epochs=30,
        dmpnn_space={**DMPNN_TABLE2,
                     "hidden_size": GridRange(16, 64, 16, integer=True),
                     "windows_per_epoch": GridRange(8, 8, 1, integer=True)},
        cnn_space={**CNN_TABLE2, "batch_size": GridRange(10, 40, 10, integer=True)}),
    # about two minutes on one CPU thread with data/small (24 frames of 1080 particles): small
    # networks, and 60 epochs because 16 training frames give only 2-4 optimiser steps per epoch
    "small": CrossValPreset(
        "small", iterations=6, epochs=60, final_epochs=60, startup_trials=2, windows_per_config=4,
        dmpnn_space={"num_neighbors": GridRange(1, 5, 1, integer=True),
                     "window_length": GridRange(0.2, 0.3, 0.05),
                     "hidden_size": GridRange(16, 48, 16, integer=True),
                     "message_steps": GridRange(2, 3, 1, integer=True),
                     "dropout": GridRange(0.0, 0.2, 0.1),
                     "ffn_layers": GridRange(1, 2, 1, integer=True),
                     "batch_size": GridRange(4, 8, 4, integer=True)},
        cnn_space={"dropout": GridRange(0.0, 0.5, 0.05),
                   "batch_size": GridRange(4, 8, 4, integer=True)}),
}


#: Table 2's k (1-5) reaches into the first neighbour shell of a 2D packing (6 neighbours); a 3D
#: liquid's first shell holds 12-14, and on the 3D inherent structures k = 8 lifted the window
#: AUC of a pilot from 0.72 to 0.87 (4-is) and 0.80 to 0.86 (5-is) at l_win 0.3 (docs/ka3d.md).
#: In 3D the search goes up to 12.
NEIGHBORS_3D = GridRange(1, 12, 1, integer=True)


def space_for_dimension(space: dict, dimension: int, overrides=()) -> dict:
    """A D-MPNN search space for frames of ``dimension``: in 3D, ``num_neighbors`` spans
    :data:`NEIGHBORS_3D` unless a ``num_neighbors=...`` override sets it."""
    if dimension == 3 and "num_neighbors" in space and \
            not any(str(o).startswith("num_neighbors=") for o in overrides):
        return {**space, "num_neighbors": NEIGHBORS_3D}
    return space


def preset_with(name: str, iterations: int | None = None, epochs: int | None = None,
                folds: int | None = None) -> CrossValPreset:
    """A preset by name with optional changes of iterations, epochs (search and final) and folds."""
    if name not in PRESETS:
        raise InputError(f"--preset must be one of {', '.join(PRESETS)}, got {name!r}")
    preset = PRESETS[name]
    changes = {}
    if iterations is not None:
        changes["iterations"] = int(iterations)
    if epochs is not None:
        changes.update(epochs=int(epochs), final_epochs=int(epochs))
    if folds is not None:
        changes["folds"] = int(folds)
    return replace(preset, **changes)
