"""The paper's Fig. 9 counts on the high-attention graph of glass and liquid frames.

    python examples/attention_counts.py MODEL_FOLDER
"""

import sys

from ovito.io import import_file

from ovito_glassml.modifiers import AttentionModifier

model = sys.argv[1] if len(sys.argv) > 1 else ""
for temperature in ("0.05", "1.99"):
    pipeline = import_file(f"data/small/slow/tcool20000/seed11/T{temperature}.dump")
    pipeline.modifiers.append(AttentionModifier(model_path=model, cutoff=2.0))
    data = pipeline.compute()
    counts = {k: v for k, v in data.attributes.items() if k.startswith("Attention.")}
    print(f"T = {temperature}: {counts}")
