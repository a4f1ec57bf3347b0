"""The OVITO modifier that classifies a frame as liquid or glass with a trained model."""

from __future__ import annotations

import numpy as np
from ovito.pipeline import ModifierInterface
from ovito.traits import FilePath
from traits.api import Bool, Enum, Range

from ..errors import InputError
from ..models.shipped import AUTO, SHIPPED_MODELS
from ..ovito_data import frame_configuration

#: Global attributes written by :class:`GlassClassifierModifier`.
PROBABILITY_ATTRIBUTE = "GlassProbability"
WHOLE_FRAME_ATTRIBUTE = "GlassProbability.WholeFrame"
WINDOWS_ATTRIBUTE = "GlassProbability.Windows"
#: The per-particle property (D-MPNN only).
LOCAL_PROPERTY = "Glass Probability"


class GlassClassifierModifier(ModifierInterface):
    """Glass probability of the frame from a trained D-MPNN or CNN (Swanson et al. 2020).

    Attributes written
    ------------------
    ``GlassProbability``
        D-MPNN: the mean glass probability of the model's own windows (its training ``l_win``)
        tiled over the frame, overlapping evenly so every particle is in at least one; CNN: the
        probability of the frame's image.
    ``GlassProbability.WholeFrame`` (D-MPNN, ``whole_frame``)
        the probability of the whole periodic frame read as one graph.
    ``GlassProbability.Windows``
        the number of windows tiled.

    Particle property ``Glass Probability`` (D-MPNN, ``local_probability``): for each particle the
    mean probability of the windows that contain it, a local glassiness OVITO can colour.

    Parameters
    ----------
    shipped_model : str
        The shipped model to use when ``model_path`` is empty, by name (``ka2d``: the 2D
        Kob-Andersen D-MPNN, ``ka3d``: the 3D one; see ``glassml models``), or ``auto``
        (default): ``ka2d`` for a 2D frame, ``ka3d`` for a 3D frame.
    model_path : str
        Model folder written by ``glassml train`` (or a file in it); empty = ``shipped_model``.
    whole_frame : bool
        Also classify the whole periodic frame as one graph (D-MPNN).
    local_probability : bool
        Write the per-particle ``Glass Probability`` property (D-MPNN).
    color_by_probability : bool
        Colour particles by ``Glass Probability`` with OVITO's colour coding (0 blue, 1 red).
    batch_size : int
        Windows per forward pass.
    """

    shipped_model = Enum(AUTO, *SHIPPED_MODELS,
                         label="Shipped model (auto: by the frame's dimension)", ovito_group="Model")
    model_path = FilePath("", label="Model folder (empty: the shipped model)", ovito_group="Model")
    whole_frame = Bool(True, label="Also classify the whole periodic frame", ovito_group="D-MPNN")
    local_probability = Bool(True, label="Per-particle local glass probability", ovito_group="D-MPNN")
    color_by_probability = Bool(False, label="Colour particles by local probability",
                                ovito_group="D-MPNN")
    batch_size = Range(low=1, high=1024, value=32, label="Windows per batch", ovito_group="D-MPNN")

    def modify(self, data, *, frame=None, **kwargs):
        from .loading import cached_classifier, modifier_model

        yield "Glass classifier: loading the model"
        classifier = cached_classifier(modifier_model(self.model_path, self.shipped_model, data))
        config = frame_configuration(data, frame, min_particles=classifier.min_particles)
        result = yield from classifier.classify_frame(config, whole_frame=self.whole_frame,
                                                      batch_size=self.batch_size)
        if not np.isfinite(result.probability):
            raise InputError(f"the model gave a glass probability of {result.probability} for "
                             f"{'the frame' if frame is None else f'frame {frame}'}; its "
                             "weights are damaged: retrain or restore the model")
        data.attributes[PROBABILITY_ATTRIBUTE] = result.probability
        if result.windows is not None:
            data.attributes[WINDOWS_ATTRIBUTE] = len(result.windows)
            if self.local_probability:
                data.particles_.create_property(LOCAL_PROPERTY, data=local_probability(
                    result.windows, result.window_probabilities, config.n_particles))
                if self.color_by_probability:
                    from ovito.modifiers import ColorCodingModifier

                    data.apply(ColorCodingModifier(property=LOCAL_PROPERTY, start_value=0.0,
                                                   end_value=1.0))
        if result.whole_frame is not None:
            data.attributes[WHOLE_FRAME_ATTRIBUTE] = result.whole_frame


def local_probability(windows: list[np.ndarray], probabilities: np.ndarray,
                      n_particles: int) -> np.ndarray:
    """Per particle, the mean probability of the windows containing it (NaN if none does)."""
    members = np.concatenate(windows)
    weights = np.repeat(probabilities, [len(w) for w in windows])
    counts = np.bincount(members, minlength=n_particles)
    total = np.bincount(members, weights=weights, minlength=n_particles)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, total / counts, np.nan)
