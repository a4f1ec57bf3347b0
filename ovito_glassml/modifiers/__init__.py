"""OVITO modifiers: the glass classifier, the attention picture and the three structural metrics.

Registered under the ``OVITO.Modifier`` entry point, so OVITO Pro lists them after
``pip install ovito-glassml``; in scripts, append them to ``pipeline.modifiers``. torch and
TensorFlow are imported only inside ``modify``, so importing this package is cheap.
"""

from .attention import AttentionModifier
from .classifier import GlassClassifierModifier
from .metrics import GlassMetricsModifier

__all__ = ["AttentionModifier", "GlassClassifierModifier", "GlassMetricsModifier"]
