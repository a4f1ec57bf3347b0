"""A tiny D-MPNN trained on data/small in seconds, for tests that need a real model folder.

The package's shipped model (ovito_glassml/models/default) is what users get; tests must not
depend on it, so they train this one: dataset 1 (glass T=0.05 vs liquid T=1.99) of slow-cooling
seeds 1-10, random windows as in the paper, the D-MPNN of ovito_glassml.models.dmpnn, saved with
ovito_glassml.models.store.save_dmpnn. Seeds 11 and 12 are never seen, so their cooling runs are
fair test trajectories.
"""

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATASET = ROOT / "data" / "small" / "datasets" / "dataset1.npz"
TRAIN_SEEDS = tuple(range(1, 11))
HELD_OUT_SEEDS = (11, 12)


def train_tiny_dmpnn(folder, *, epochs=60, seed=0, window_length=0.4):
    """Train and save a small attention D-MPNN (k=2, hidden 32, T=3); returns the folder."""
    import torch
    from torch_geometric.data import Batch

    from ovito_glassml.datasets import load_dataset
    from ovito_glassml.graphs import GraphSpec, window_graph
    from ovito_glassml.models.dmpnn import DMPNN, DMPNNHyperparameters
    from ovito_glassml.models.store import save_dmpnn

    torch.set_num_threads(1)  # two threads on a loaded 2-core machine run ~50x slower
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    ds = load_dataset(DATASET)
    train = ds.subset(np.flatnonzero(np.isin(ds.seed, TRAIN_SEEDS)))
    configs = [train[i] for i in range(len(train))]
    spec = GraphSpec(num_neighbors=2, features="invariant", length_scale=float(configs[0].box[0]))
    model = DMPNN(DMPNNHyperparameters(node_dim=spec.node_dim, hidden_size=32, message_steps=3,
                                       ffn_layers=2))
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    labels = torch.as_tensor(train.label, dtype=torch.long)
    model.train()
    for _ in range(epochs):
        batch = Batch.from_data_list([window_graph(c, window_length, spec, rng) for c in configs])
        loss = torch.nn.functional.cross_entropy(model(batch), labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    return save_dmpnn(folder, model, spec, window_length,
                      data={"dataset": str(DATASET), "train_seeds": list(TRAIN_SEEDS)})


def session_model_folder(tmp_path_factory):
    """The tiny model, trained once per pytest session (shared by every test module through the
    session's base temporary directory)."""
    import torch

    torch.set_num_threads(1)
    folder = tmp_path_factory.getbasetemp() / "tiny_dmpnn"
    if not (folder / "config.json").exists():
        train_tiny_dmpnn(folder)
    return folder


def write_dump(path, positions, types, box, *, z=None, with_types=True, timestep=0, extra=None,
               append=False):
    """A LAMMPS text dump (``id type x y [z] [extra...]``) of one frame, for hand-made frames.

    ``extra`` maps further column names to per-particle values; ``append`` adds the frame to an
    existing file (a multi-frame trajectory).
    """
    positions = np.asarray(positions, dtype=float)
    n = len(positions)
    extra = dict(extra or {})
    ints = ["id"] + (["type"] if with_types else [])
    floats = ["x", "y"] + (["z"] if z is not None else []) + list(extra)
    columns = [np.arange(1, n + 1)] + ([np.asarray(types)] if with_types else [])
    columns += [positions[:, 0], positions[:, 1]] + ([np.asarray(z)] if z is not None else [])
    columns += [np.asarray(v, dtype=float) for v in extra.values()]
    zlo, zhi = (-0.5, 0.5) if z is None else (0.0, float(box[0]))
    header = "\n".join(["ITEM: TIMESTEP", str(timestep), "ITEM: NUMBER OF ATOMS", str(n),
                        "ITEM: BOX BOUNDS pp pp pp", f"0 {box[0]}", f"0 {box[1]}", f"{zlo} {zhi}",
                        "ITEM: ATOMS " + " ".join(ints + floats)])
    with open(path, "a" if append else "w") as fh:
        np.savetxt(fh, np.column_stack(columns), fmt=["%d"] * len(ints) + ["%.6f"] * len(floats),
                   header=header, comments="")
    return Path(path)
