"""Where the test data lies: the repository's small real data set and the tests' own files."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "tests" / "data"
SMALL = ROOT / "data" / "small"
DATASETS = SMALL / "datasets"
DATASET1 = DATASETS / "dataset1.npz"
#: A slow-cooled run of the demo preset (1080 particles) that the tiny model never sees.
SEED11 = SMALL / "slow" / "tcool20000" / "seed11"
GLASS_DUMP = SEED11 / "T0.05.dump"
LIQUID_DUMP = SEED11 / "T1.99.dump"
