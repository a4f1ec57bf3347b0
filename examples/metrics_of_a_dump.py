"""The paper's three structural metrics of one frame, and the B-particle graph as bonds.

    python examples/metrics_of_a_dump.py data/small/slow/tcool20000/seed1/T0.05.dump
"""

import sys

from ovito.io import import_file

from ovito_glassml.modifiers import GlassMetricsModifier

path = sys.argv[1] if len(sys.argv) > 1 else "data/small/slow/tcool20000/seed1/T0.05.dump"
pipeline = import_file(path)
pipeline.modifiers.append(GlassMetricsModifier(num_neighbors=2, create_bonds=True))
data = pipeline.compute()
for name in ("GlassMetrics.DisjointGraphs", "GlassMetrics.BBEdges", "GlassMetrics.IsolatedA"):
    print(f"{name:28s} {data.attributes[name]}")
print(f"{data.particles.bonds.count} bonds (each B particle joined to its 2 nearest neighbours)")

# the same numbers without OVITO, from the analysis object
from ovito_glassml.frames import read_dump  # noqa: E402
from ovito_glassml.metrics import GlassGraphMetrics  # noqa: E402

print(GlassGraphMetrics(num_neighbors=2).compute(read_dump(path)).as_dict())
