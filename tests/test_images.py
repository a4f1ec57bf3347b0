"""The CNN's images: what a configuration looks like, pixel by pixel (paper §2.3.2, Fig. 3)."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ovito_glassml.configuration import Configuration
from ovito_glassml.datasets import load_dataset
from ovito_glassml.errors import InputError
from ovito_glassml.images import (BLUE, ORANGE, WHITE, render_arrays, render_image, render_images,
                                  save_png)

DATASET1 = Path(__file__).resolve().parents[1] / "data" / "small" / "datasets" / "dataset1.npz"

# A 25 x 25 box on 250 pixels: 10 pixels per sigma, so an A disc has a 5 px radius and a B disc
# 4.4 px. Every centre sits on a pixel corner, so no pixel centre lies exactly on a disc edge.
BOX = (25.0, 25.0)
THREE = Configuration(positions=[[5.0, 20.0],     # A, top left: pixel column 50, row 50
                                 [12.5, 12.5],    # B, the middle: column 125, row 125
                                 [0.2, 10.0]],    # A across the left edge: column 2, row 150
                      types=[1, 2, 1], box=BOX)


def reference_image(positions, types, box, size=250):
    """Straight from the definition: every pixel centre against every particle (minimum image)."""
    scale = size / np.asarray(box)
    centres_x = (np.arange(size) + 0.5) / scale[0]
    centres_y = box[1] - (np.arange(size) + 0.5) / scale[1]
    image = np.full((size, size, 3), WHITE, dtype=np.uint8)
    for ptype, radius, colour in ((1, 0.5, ORANGE), (2, 0.44, BLUE)):   # B drawn last
        for x, y in np.asarray(positions)[np.asarray(types) == ptype]:
            dx = centres_x - x
            dx -= box[0] * np.round(dx / box[0])
            dy = centres_y - y
            dy -= box[1] * np.round(dy / box[1])
            image[dy[:, None] ** 2 + dx[None, :] ** 2 <= radius ** 2] = colour
    return image


def colour_count(image, colour):
    return int(np.all(image == colour, axis=-1).sum())


def test_three_particle_render_is_pixel_exact():
    image = render_image(THREE)
    assert image.shape == (250, 250, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image, reference_image(THREE.positions, THREE.types, BOX))
    # half-integer lattice points in a circle about a lattice point: 80 for r = 5, 60 for r = 4.4
    assert colour_count(image, ORANGE) == 2 * 80
    assert colour_count(image, BLUE) == 60
    assert colour_count(image, WHITE) == 250 * 250 - 220


def test_image_rows_run_from_the_top_of_the_box():
    image = render_image(THREE)
    assert tuple(image[50, 50]) == ORANGE       # y = 20 of 25: near the top
    assert tuple(image[200, 50]) == WHITE       # y = 5 at x = 5: nothing there
    assert tuple(image[125, 125]) == BLUE


def test_disc_crossing_the_box_edge_reappears_on_the_opposite_edge():
    image = render_image(THREE)
    # the A disc at x = 0.2 (column 2) reaches 3 px past the left edge, onto the right edge
    assert tuple(image[150, 249]) == ORANGE
    assert tuple(image[150, 247]) == ORANGE
    assert tuple(image[150, 246]) == WHITE


def test_b_disc_is_drawn_over_an_overlapping_a_disc():
    image = render_arrays([[12.5, 12.5], [12.5, 12.5]], [2, 1], BOX)
    assert colour_count(image, BLUE) == 60
    assert colour_count(image, ORANGE) == 80 - 60


def test_non_square_box_fills_the_whole_image():
    # a 50 x 25 box: 5 px per sigma across, 10 px per sigma down, so an A disc is an ellipse of
    # semi-axes 2.5 px and 5 px; about a pixel corner it holds 4 pixel centres across, 10 down
    box = (50.0, 25.0)
    image = render_arrays([[25.0, 12.5]], [1], box)
    np.testing.assert_array_equal(image, reference_image([[25.0, 12.5]], [1], box))
    rows, cols = np.nonzero(np.all(image == ORANGE, axis=-1))
    assert rows.max() - rows.min() + 1 == 10
    assert cols.max() - cols.min() + 1 == 4


def test_many_configurations_render_as_one_batch_identical_to_single_renders():
    dataset = load_dataset(DATASET1).subset([0, 5, 12, 20])
    batch = render_images(dataset)
    assert batch.shape == (4, 250, 250, 3)
    for i in range(4):
        np.testing.assert_array_equal(batch[i], render_image(dataset[i]))
    np.testing.assert_array_equal(render_images([dataset[1], dataset[3]]), batch[[1, 3]])


def test_real_configuration_covers_the_fraction_of_the_box_its_discs_cover():
    config = load_dataset(DATASET1)[0]
    image = render_image(config)
    # 1080 discs (65% A, 35% B) in 900 sigma^2 cover ~0.8 of it, minus their overlaps
    disc_area = np.pi / 4 * (np.sum(config.types == 1) + 0.88 ** 2 * np.sum(config.types == 2))
    coloured = 1 - colour_count(image, WHITE) / 250 ** 2
    assert 0.7 * disc_area / 900 < coloured < disc_area / 900


def test_png_holds_exactly_the_rendered_pixels(tmp_path):
    path = save_png(THREE, tmp_path / "three.png")
    with Image.open(path) as png:
        assert png.mode == "RGB" and png.size == (250, 250)
        np.testing.assert_array_equal(np.asarray(png), render_image(THREE))


def test_empty_configuration_is_refused():
    with pytest.raises(InputError, match="empty"):
        render_arrays(np.zeros((0, 2)), np.zeros(0, dtype=int), BOX)


def test_coordinates_outside_the_box_are_refused():
    with pytest.raises(InputError, match="outside the box"):
        render_arrays([[1.0, 1.0], [26.0, 3.0]], [1, 2], BOX)
    with pytest.raises(InputError, match="outside the box"):
        render_arrays([[-0.1, 1.0]], [1], BOX)


def test_unknown_particle_type_is_refused():
    with pytest.raises(InputError, match="types must be 1"):
        render_arrays([[1.0, 1.0]], [3], BOX)
