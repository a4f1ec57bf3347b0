"""Shared fixtures of the test suite.

``tests/`` is on ``sys.path`` (pytest's rootdir insertion), so the helper modules
:mod:`paths`, :mod:`tiny_model` and :mod:`networkx_reference` import by name.
"""

import pytest
import torch

from ovito_glassml.datasets import load_dataset
from paths import DATASET1

# one thread: two torch threads on this loaded 2-core machine run many times slower
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def dataset1():
    """data/small's dataset 1 (glass T=0.05 vs liquid T=1.99, 24 configurations of 1080)."""
    return load_dataset(DATASET1)


@pytest.fixture(scope="session")
def tiny_model_folder(tmp_path_factory):
    """A small attention D-MPNN trained once per session on data/small (see tiny_model.py)."""
    from tiny_model import session_model_folder

    return session_model_folder(tmp_path_factory)


@pytest.fixture(scope="session")
def ka3d_manifest(tmp_path_factory):
    """Six short 3D Kob-Andersen LAMMPS runs (320 particles, ka3d_cool.in), made once."""
    from tiny_model import ka3d_runs

    return ka3d_runs(tmp_path_factory.mktemp("ka3d_runs"))


@pytest.fixture(scope="session")
def ternary_manifest(ka3d_manifest, tmp_path_factory):
    """Those runs as a user's own system: a 3D ternary (types 3, 7, 11 named Cu, Al, Zr) in
    Angstrom, labelled glass (T=0.05) and liquid (1.99, 0.7), in a manifest of relative paths."""
    from tiny_model import KA3D_SEEDS, labelled_manifest, to_ternary_angstrom

    folder = tmp_path_factory.mktemp("ternary")
    return labelled_manifest(ka3d_manifest, folder / "labelled.csv", seeds=KA3D_SEEDS,
                             convert=to_ternary_angstrom)
