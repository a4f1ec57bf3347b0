"""OVITO modifiers: the glass classifier, the attention picture and the three structural metrics.

Registered under the ``OVITO.Modifier`` entry point, so OVITO Pro lists them after
``pip install ovito-glassml``; in scripts, append them to ``pipeline.modifiers``. torch is
imported only inside ``modify`` of the model-based modifiers, so importing this package is cheap.
"""

from .metrics import GlassMetricsModifier

__all__ = ["GlassMetricsModifier"]
