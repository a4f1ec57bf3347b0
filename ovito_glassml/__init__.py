"""ovito-glassml: liquid/glass classification and glass-transition metrics for LAMMPS and OVITO."""

__version__ = "0.1.0"
