"""Glass probability, local glassiness and the three metrics of every frame of a trajectory.

Run with ``python`` (the ``ovito`` PyPI module) or OVITO Pro's ``ovitos``:

    python examples/classify_trajectory.py 'data/small/slow/tcool20000/seed11/T*.dump' [MODEL_FOLDER]

Without MODEL_FOLDER the model shipped in the package is used.
"""

import sys

from ovito_glassml.batch import open_trajectory
from ovito_glassml.modifiers import GlassClassifierModifier, GlassMetricsModifier

source = sys.argv[1] if len(sys.argv) > 1 else "data/small/slow/tcool20000/seed11/T*.dump"
model = sys.argv[2] if len(sys.argv) > 2 else ""

# open_trajectory also takes patterns like T*.dump whose numbers have a decimal point, and
# manifests; for a single multi-frame dump, import_file(path) is the same thing
pipeline = open_trajectory(source).pipeline
pipeline.modifiers.append(GlassClassifierModifier(model_path=model, color_by_probability=True))
pipeline.modifiers.append(GlassMetricsModifier())

print("frame  timestep  P(glass) windows  P(glass) frame  disjoint graphs  B-B edges  isolated A")
for frame in range(pipeline.num_frames):
    data = pipeline.compute(frame)
    a = data.attributes
    print(f"{frame:5d}  {a['Timestep']:8d}  {a['GlassProbability']:16.3f}  "
          f"{a['GlassProbability.WholeFrame']:14.3f}  {a['GlassMetrics.DisjointGraphs']:15d}  "
          f"{a['GlassMetrics.BBEdges']:9d}  {a['GlassMetrics.IsolatedA']:10d}")
