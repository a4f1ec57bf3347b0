"""Configurations as the CNN's input images: a vectorised disc rasteriser (paper §2.3.2, Fig. 3).

A configuration becomes a ``size x size`` RGB ``uint8`` image (250 x 250 in the paper):

* the periodic box is mapped onto the whole image, ``x`` to columns (left to right) and ``y`` to
  rows (bottom to top, as in a plot: row 0 is the top of the box);
* every particle is a filled disc of diameter ``sigma``: 1.0 for type A and 0.88 for type B, the
  Kob-Andersen ``sigma_AA`` and ``sigma_BB`` in units of ``sigma_AA`` (SPEC §1). The disc is
  scaled by the image's pixels per sigma, ``size / box`` (250 / 60 = 4.17 px per sigma for the
  paper's 60 x 60 box, so an A disc is 4.2 px and a B disc 3.7 px across);
* a pixel belongs to a disc when the pixel's *centre* lies within the disc (distance <= radius),
  so the image is a pure function of the coordinates, with no anti-aliasing;
* the box is periodic, so a disc that crosses a box edge also appears on the opposite edge: the
  image is one tile of a periodic picture, exactly like the simulation box, and rotating or
  flipping it (the training augmentation) gives an image of an equally valid configuration;
* where discs overlap, B (the smaller particle) is drawn over A, so no B particle is ever hidden;
* colours are matplotlib's default cycle ``tab:orange`` (255, 127, 14) for A and ``tab:blue``
  (31, 119, 180) for B on white (255, 255, 255).

The rasteriser stamps, for every particle, the small window of pixels its disc can reach
(all particles at once, as array operations), keeps the pixels whose centres fall inside the
disc, and scatters the type into a label canvas that a colour table turns into RGB. Many
configurations render in one pass (:func:`render_images`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .configuration import TYPE_A, TYPE_B, Configuration, wrap_into_box
from .errors import InputError

#: Image side in pixels used by the paper's CNN.
IMAGE_SIZE = 250
#: Disc diameters in units of sigma_AA, by LAMMPS type (the Kob-Andersen sigma_AA and sigma_BB).
DIAMETERS = {TYPE_A: 1.0, TYPE_B: 0.88}
WHITE = (255, 255, 255)
ORANGE = (255, 127, 14)   # matplotlib tab:orange, type A
BLUE = (31, 119, 180)     # matplotlib tab:blue, type B

# label canvas values -> colours; B has the larger label because it is drawn last (on top)
_PALETTE = np.array([WHITE, ORANGE, BLUE], dtype=np.uint8)
_LABEL = {TYPE_A: 1, TYPE_B: 2}


def render_image(config: Configuration, size: int = IMAGE_SIZE) -> np.ndarray:
    """Render one configuration as a ``(size, size, 3)`` uint8 RGB image.

    Parameters
    ----------
    config : Configuration
        Positions (wrapped into the box), types (1 = A, 2 = B) and box.
    size : int
        Image side in pixels; the paper uses 250.

    Returns
    -------
    numpy.ndarray
        ``(size, size, 3)`` uint8; A orange, B blue, background white (see the module docstring).
    """
    return render_arrays(config.positions, config.types, config.box, size=size)


def render_arrays(positions, types, box, size: int = IMAGE_SIZE) -> np.ndarray:
    """Render raw arrays (positions ``(N, 2)``, types ``(N,)``, box ``(2,)``) as one image.

    Unlike :class:`Configuration`, which wraps positions into the box, this function refuses
    coordinates outside ``[0, box]``: raw coordinates outside the box usually mean unwrapped
    coordinates or the wrong box, and silently wrapping them would hide that mistake.

    Raises
    ------
    InputError
        For an empty configuration, mismatched shapes, types other than 1 and 2, a non-positive
        box, non-finite coordinates or coordinates outside ``[0, box]``.
    """
    positions = np.asarray(positions, dtype=np.float64)
    types = np.asarray(types)
    box = np.asarray(box, dtype=np.float64).reshape(-1)
    if positions.ndim != 2 or positions.shape[1] != 2:
        raise InputError(f"positions must have shape (N, 2), got {positions.shape}")
    if len(positions) == 0:
        raise InputError("the configuration is empty: it has no particles to draw")
    if types.shape != (len(positions),):
        raise InputError(f"{len(positions)} positions but types of shape {types.shape}")
    if box.shape != (2,) or not np.all(box > 0):
        raise InputError(f"box must be two positive side lengths, got {box}")
    if not np.all(np.isfinite(positions)):
        raise InputError("the configuration has NaN or infinite coordinates")
    outside = np.any((positions < 0) | (positions > box), axis=1)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise InputError(
            f"{int(outside.sum())} particles lie outside the box [0, {box[0]:g}] x [0, {box[1]:g}] "
            f"(first: particle {i} at {positions[i].tolist()}); wrap the coordinates into the box "
            "or pass a Configuration, which wraps them")
    offsets = np.array([0, len(positions)])
    return _rasterise(positions, types, box[None, :], offsets, size)[0]


def render_images(configs, size: int = IMAGE_SIZE) -> np.ndarray:
    """Render many configurations in one vectorised pass: ``(n, size, size, 3)`` uint8.

    Parameters
    ----------
    configs : sequence of Configuration, or a PackedDataset
        A :class:`~ovito_glassml.datasets.PackedDataset` renders from its concatenated arrays
        directly (no per-configuration objects).
    size : int
        Image side in pixels.
    """
    if hasattr(configs, "offsets") and hasattr(configs, "positions"):
        if len(configs) == 0:
            raise InputError("the dataset is empty: there is nothing to render")
        # stored float32 positions can round up to exactly the box side: wrap like Configuration
        box = np.asarray(configs.box, dtype=np.float64)
        offsets = np.asarray(configs.offsets, dtype=np.int64)
        per_particle_box = np.repeat(box, np.diff(offsets), axis=0)
        positions = wrap_into_box(np.asarray(configs.positions, dtype=np.float64), per_particle_box)
        return _rasterise(positions, np.asarray(configs.types), box, offsets, size)
    configs = list(configs)
    if not configs:
        raise InputError("no configurations to render")
    offsets = np.concatenate([[0], np.cumsum([c.n_particles for c in configs])])
    return _rasterise(np.concatenate([c.positions for c in configs]),
                      np.concatenate([c.types for c in configs]),
                      np.stack([c.box for c in configs]), offsets, size)


def save_png(config: Configuration, path: str | Path, size: int = IMAGE_SIZE) -> Path:
    """Render ``config`` and write it as an RGB PNG at ``path`` (pillow); returns the path."""
    from PIL import Image

    from .fileio import atomic_path

    path = Path(path)
    image = render_image(config, size=size)
    with atomic_path(path) as tmp:
        Image.fromarray(image, mode="RGB").save(tmp, format="PNG")
    return path


def _rasterise(positions: np.ndarray, types: np.ndarray, boxes: np.ndarray,
               offsets: np.ndarray, size: int) -> np.ndarray:
    """Stamp every particle's disc into ``len(offsets) - 1`` label canvases, then colour them."""
    if int(size) != size or size < 1:
        raise InputError(f"image size must be a positive whole number of pixels, got {size}")
    if positions.shape[1] != 2:
        raise InputError(f"the CNN reads pictures of 2D frames; this frame is "
                         f"{positions.shape[1]}D: classify 3D frames with a D-MPNN model "
                         "(glassml train dmpnn, or a shipped D-MPNN)")
    size = int(size)
    unknown = (types != TYPE_A) & (types != TYPE_B)
    if unknown.any():
        raise InputError("particle types must be 1 (A) or 2 (B); found "
                         f"{np.unique(types[unknown]).tolist()}")
    n_images = len(offsets) - 1
    image_of = np.repeat(np.arange(n_images), np.diff(offsets))
    if n_images * size * size >= np.iinfo(np.int32).max:
        raise InputError(f"{n_images} images of {size}x{size} pixels are too many for one pass; "
                         "render fewer at a time")
    # one extra cell at the end absorbs every candidate pixel that lies outside its disc
    canvas = np.zeros(n_images * size * size + 1, dtype=np.uint8)
    sentinel = canvas.size - 1
    for ptype in (TYPE_A, TYPE_B):          # two passes so that B lands on top of A
        mine = types == ptype
        if not mine.any():
            continue
        img = image_of[mine]
        scale = size / boxes[img]           # pixels per sigma along x and y, (M, 2)
        radius = 0.5 * DIAMETERS[ptype]
        # continuous pixel coordinates of the centres: column from x, row from the top of the box
        col = positions[mine, 0] * scale[:, 0]
        row = (boxes[img, 1] - positions[mine, 1]) * scale[:, 1]
        # the pixels whose centres can lie inside the disc: a window of floor(2 r s) + 1 pixels
        # per axis starting at the first pixel centre past the disc's edge (with a hair of
        # slack so that rounding never drops a pixel the exact distance test below would keep)
        width = int(np.floor(2 * radius * scale.max() + 1e-9)) + 1
        steps = np.arange(width)
        cols = np.ceil(col - radius * scale[:, 0] - 0.5 - 1e-9).astype(np.int64)[:, None] + steps
        rows = np.ceil(row - radius * scale[:, 1] - 0.5 - 1e-9).astype(np.int64)[:, None] + steps
        dx2 = (((cols + 0.5) - col[:, None]) / scale[:, :1]) ** 2
        dy2 = (((rows + 0.5) - row[:, None]) / scale[:, 1:]) ** 2
        inside = dy2[:, :, None] + dx2[:, None, :] <= radius * radius                 # (M, W, W)
        # canvas index of every window pixel, wrapped periodically into the image so that discs
        # crossing an edge reappear on the opposite edge; pixels outside the disc go to the sentinel
        row_start = ((img[:, None] * size + rows % size) * size).astype(np.int32)
        flat = row_start[:, :, None] + (cols % size).astype(np.int32)[:, None, :]
        flat[~inside] = sentinel
        canvas[flat] = _LABEL[ptype]
    return np.take(_PALETTE, canvas[:-1], axis=0).reshape(n_images, size, size, 3)
