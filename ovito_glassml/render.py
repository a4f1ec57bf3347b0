"""Pictures with OVITO's own renderer, headless: the paper's Fig. 8 attention picture.

``render_attention`` loads one frame, runs :class:`~ovito_glassml.modifiers.AttentionModifier`
(particles coloured by type, every model edge a bond whose width follows its attention weight)
and renders the view from above to a PNG. OVITO's OpenGL renderer runs without a display here
(offscreen, through Vulkan/Mesa); Tachyon, a CPU ray tracer, is the fallback and the choice for
print-quality pictures.

OVITO's renderer and TensorFlow do not share a process: rendering after TensorFlow is loaded
crashes (segmentation fault), and loading TensorFlow after rendering makes the interpreter hang
at exit (OVITO 3.17, TensorFlow 2.21). :func:`render_pipeline` refuses the first case with an
error; render in a process that does not use the CNN.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError

RENDERERS = ("opengl", "tachyon")


def render_pipeline(pipeline, path, *, frame: int = 0, size=(800, 800), renderer: str = "opengl"):
    """Render ``pipeline`` at ``frame``, seen from above (+z), to the PNG ``path``; returns the path.

    The pipeline is added to OVITO's scene for the rendering and removed afterwards.
    """
    import sys

    from ovito.vis import OpenGLRenderer, TachyonRenderer, Viewport

    from .fileio import atomic_path

    if "tensorflow" in sys.modules:
        raise RuntimeError("TensorFlow is loaded in this process, and OVITO's renderer crashes "
                           "beside it; render the picture in a separate process (one that does "
                           "not load a CNN model)")
    if renderer not in RENDERERS:
        raise InputError(f"renderer must be one of {RENDERERS}, got {renderer!r}")
    engine = OpenGLRenderer() if renderer == "opengl" else TachyonRenderer(ambient_occlusion=False)
    path = Path(path)
    pipeline.add_to_scene()
    try:
        viewport = Viewport(type=Viewport.Type.Top)
        viewport.zoom_all(size=size)
        with atomic_path(path) as tmp:
            # OVITO picks the image format from the suffix, so render to a .png beside the temp file
            png = tmp.with_suffix(".png")
            viewport.render_image(size=size, filename=str(png), frame=frame, renderer=engine,
                                  background=(1.0, 1.0, 1.0))
            png.replace(tmp)
    finally:
        pipeline.remove_from_scene()
    return path


def render_attention(source, path, *, model_path: str = "", frame: int = 0, size=(800, 800),
                     cutoff: float | None = None, renderer: str = "opengl", paper_style: bool = True):
    """The paper's Fig. 8 picture of one frame of ``source`` (a dump or anything OVITO reads).

    Parameters
    ----------
    source : path of the trajectory or frame.
    path : PNG to write.
    model_path : D-MPNN model folder; empty = the shipped model.
    frame : frame of ``source`` to draw.
    size : image size in pixels.
    cutoff : high-attention cutoff passed to the modifier (default: the modifier's).
    renderer : "opengl" (fast, offscreen) or "tachyon" (ray traced).
    paper_style : green bonds as in the paper; otherwise bonds coloured by attention.

    Returns the PNG path and the frame's attention attributes.
    """
    from ovito.io import import_file

    from .modifiers import AttentionModifier

    if not Path(source).exists():
        raise InputError(f"{source} does not exist")
    pipeline = import_file(str(source))
    modifier = AttentionModifier(model_path=model_path or "", color_bonds=not paper_style)
    if cutoff is not None:
        modifier.cutoff = cutoff
    pipeline.modifiers.append(modifier)
    data = pipeline.compute(frame)
    attributes = {k: v for k, v in data.attributes.items() if k.startswith("Attention.")}
    return render_pipeline(pipeline, path, frame=frame, size=size, renderer=renderer), attributes
