"""The paper's Fig. 8: particles by type, every model edge a green line as wide as its attention.

Renders headless with OVITO's OpenGL renderer (or --tachyon), one PNG per frame given:

    python examples/render_attention.py data/small/slow/tcool20000/seed11/T0.05.dump \
        data/small/slow/tcool20000/seed11/T1.99.dump --model MODEL_FOLDER
"""

import argparse
from pathlib import Path

from ovito_glassml.render import render_attention

parser = argparse.ArgumentParser()
parser.add_argument("dumps", nargs="+")
parser.add_argument("--model", default="", help="D-MPNN folder (default: the shipped model)")
parser.add_argument("--tachyon", action="store_true", help="ray-traced instead of OpenGL")
parser.add_argument("--cutoff", type=float, default=None, help="high-attention cutoff (relative)")
args = parser.parse_args()

for dump in args.dumps:
    png = Path(dump).with_suffix(".attention.png").name
    path, counts = render_attention(dump, png, model_path=args.model, cutoff=args.cutoff,
                                    renderer="tachyon" if args.tachyon else "opengl")
    print(path, counts)
