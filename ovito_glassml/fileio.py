"""Atomic file writes: a reader never sees a half-written file, a killed writer leaves none."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json_atomic(path, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_csv_atomic(path, rows: list[dict], fieldnames: list[str]) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fieldnames, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output_folder(out, force: bool = False) -> Path:
    """Refuse, before any work, an ``--out`` that holds results (unless ``force``) or is a file.

    Whether the folder can be written is found out by :func:`replaced_folder`, which makes its
    temporary folder beside ``out`` before the work starts.
    """
    from .errors import InputError

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder; choose a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        names = ", ".join(sorted(p.name for p in out.iterdir())[:4])
        raise InputError(f"{out} already holds results ({names}, ...); add --force to replace "
                         "them or choose another --out")
    return out


@contextmanager
def replaced_folder(out, force: bool = False):
    """Yield an empty temporary folder beside ``out``; on success it becomes ``out``.

    A failed, interrupted or killed command leaves ``out`` as it was (a killed one may leave a
    hidden ``.OUT.PID.*.part`` folder beside it, which the next command on ``out`` removes once
    process PID is gone). An existing ``out`` (only with ``force``) is moved aside and deleted
    after the new folder took its name, so ``out`` is never a mix of old and new files.
    """
    import shutil

    from .errors import InputError

    out = check_output_folder(out, force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".part",
                                    dir=out.parent))
    except OSError as err:
        raise InputError(f"cannot write --out {out} ({err.strerror}); choose a writable "
                         "folder") from err
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".old",
                                        dir=out.parent))
            os.replace(out, old / out.name)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def remove_leftovers(out) -> list[Path]:
    """Remove the ``.OUT.PID.*.part`` / ``.old`` folders that killed commands left beside ``out``
    (those of processes that no longer run); returns what was removed."""
    import shutil

    out = Path(out)
    removed = []
    for path in list(out.parent.glob(f".{out.name}.*.part")) + list(out.parent.glob(f".{out.name}.*.old")):
        pid = path.name[len(out.name) + 2:].split(".")[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def refuse_existing(paths, force: bool = False) -> None:
    """Refuse, before any work, to replace files that hold results, unless ``force``."""
    from .errors import InputError

    existing = [Path(p) for p in paths if Path(p).exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing[:3]) + (" ..." if len(existing) > 3 else "")
        raise InputError(f"{names} exists; give --force to replace it, or another --out")
