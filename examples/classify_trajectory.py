"""Glass probability, local glassiness and the three metrics of every frame of a trajectory.

Run with ``python`` (the ``ovito`` PyPI module) or OVITO Pro's ``ovitos``:

    python examples/classify_trajectory.py 'data/small/slow/tcool20000/seed11/T*.dump' [MODEL_FOLDER]

Without MODEL_FOLDER the model shipped in the package is used.
"""

import sys

from ovito_glassml.batch import open_trajectory
from ovito_glassml.modifiers import GlassClassifierModifier, GlassMetricsModifier
from ovito_glassml.ovito_data import frame_data

source = sys.argv[1] if len(sys.argv) > 1 else "data/small/slow/tcool20000/seed11/T*.dump"
model = sys.argv[2] if len(sys.argv) > 2 else ""

# open_trajectory takes a file (multi-frame, gzipped, or any format OVITO reads), a pattern like
# T*.dump whose numbers have a decimal point, or a manifest; it reads one frame at a time.
# For one file in OVITO's own pipeline: pipeline = ovito.io.import_file(path) and append the
# same modifiers.
modifiers = [GlassClassifierModifier(model_path=model, color_by_probability=True),
             GlassMetricsModifier()]

print("frame  timestep  P(glass) windows  P(glass) frame  disjoint graphs  B-B edges  isolated A")
for number, frame in open_trajectory(source).frames():
    data = frame_data(frame.configuration, frame.timestep, frame.source)
    for modifier in modifiers:
        data.apply(modifier)
    a = data.attributes
    print(f"{number:5d}  {a['Timestep']:8d}  {a['GlassProbability']:16.3f}  "
          f"{a['GlassProbability.WholeFrame']:14.3f}  {a['GlassMetrics.DisjointGraphs']:15d}  "
          f"{a['GlassMetrics.BBEdges']:9d}  {a['GlassMetrics.IsolatedA']:10d}")
