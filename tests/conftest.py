"""Shared fixtures of the test suite, and the process of its own that TensorFlow tests run in.

``tests/`` is on ``sys.path`` (pytest's rootdir insertion), so the helper modules
:mod:`paths`, :mod:`tiny_model` and :mod:`networkx_reference` import by name.

Tests marked ``tensorflow`` run in a child pytest process, one per test module (or per
``tensorflow(group=...)`` within it), and their reports come back to this process as if they had
run here. TensorFlow keeps about 1 GB for every model it has trained until its process ends
(``keras.backend.clear_session()`` and ``gc`` do not give it back; the paper's dense CNN has 72 M
weights), so in the suite's own process the CNN tests held 10 GB. A ``tensorflow`` test is
``slow`` too.
"""

import json
import os
import subprocess
import sys

import pytest
import torch

from ovito_glassml.datasets import load_dataset
from paths import DATASET1

# one thread: two torch threads on this loaded 2-core machine run many times slower
torch.set_num_threads(1)

#: set in a child process: the file its reports go to (and the sign that it is the child)
REPORTS_ENV = "GLASSML_TEST_REPORTS"


@pytest.fixture(scope="session")
def dataset1():
    """data/small's dataset 1 (glass T=0.05 vs liquid T=1.99, 24 configurations of 1080)."""
    return load_dataset(DATASET1)


@pytest.fixture(scope="session")
def tiny_model_folder():
    """The tests' small attention D-MPNN (tests/data/tiny-dmpnn, see tiny_model.py)."""
    from tiny_model import TINY_MODEL

    return TINY_MODEL


def pytest_collection_modifyitems(config, items):
    """A ``tensorflow`` test is ``slow`` too: ``-m "not slow"`` never starts TensorFlow."""
    for item in items:
        if item.get_closest_marker("tensorflow"):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """Run a ``tensorflow`` test's module's ``tensorflow`` tests in a child process (once, at the
    first of them) and report each test's phases from there."""
    if os.environ.get(REPORTS_ENV) or not item.get_closest_marker("tensorflow"):
        return None
    done = item.session.stash.setdefault(_CHILD_REPORTS, {})
    if item.nodeid not in done:
        group = [other for other in item.session.items if _process_of(other) == _process_of(item)]
        done.update(_run_in_child(item.config, group))
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for report in done.pop(item.nodeid):
        item.ihook.pytest_runtest_logreport(report=report)
    # what this process set up for earlier tests (this module's fixtures) and the next test does
    # not share is torn down here, as pytest's own protocol does after every test
    item.session._setupstate.teardown_exact(nextitem)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


_CHILD_REPORTS = pytest.StashKey[dict]()


def _process_of(item):
    """The child process a ``tensorflow`` test runs in: its module, group and the environment
    variables the marker sets (``tensorflow(group=..., env={...})``); None for other tests."""
    marker = item.get_closest_marker("tensorflow")
    if marker is None:
        return None
    return (item.path, marker.kwargs.get("group", ""),
            tuple(sorted(marker.kwargs.get("env", {}).items())))


def _run_in_child(config, items) -> dict:
    """``{nodeid: [reports]}`` of ``items`` run by a child pytest; a test the child did not report
    (it crashed) fails with the child's output."""
    # the session's base temporary folder (pytest's own factory: hooks get no fixtures)
    base = config._tmp_path_factory.getbasetemp()
    path, group, env = _process_of(items[0])
    name = f"{path.stem}-{group}".strip("-").replace(" ", "_")
    report_file = base / f"{name}.reports.jsonl"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "--basetemp", str(base / f"child-{name}"), *[item.nodeid for item in items]]
    done = subprocess.run(command, cwd=config.rootpath, capture_output=True, text=True,
                          env=dict(os.environ, **dict(env), **{REPORTS_ENV: str(report_file)}))
    reports = {item.nodeid: [] for item in items}
    if report_file.exists():
        for line in report_file.read_text().splitlines():
            report = config.hook.pytest_report_from_serializable(config=config,
                                                                 data=json.loads(line))
            if isinstance(report.longrepr, list):    # a skip's (path, line, reason), via JSON
                report.longrepr = tuple(report.longrepr)
            reports.setdefault(report.nodeid, []).append(report)
    for item in items:
        if not any(r.when == "call" or r.outcome != "passed" for r in reports[item.nodeid]):
            output = (done.stdout + done.stderr)[-5000:]
            reports[item.nodeid] = [pytest.TestReport(
                item.nodeid, item.location, {}, "failed",
                f"the child process ended (exit {done.returncode}) before reporting this "
                f"test:\n{output}", "call")]
    return reports


#: this session's pytest config (the report hook below is given none)
_session_config = None


def pytest_configure(config):
    global _session_config
    _session_config = config


def pytest_runtest_logreport(report):
    """In a child process: hand every report to the parent."""
    path = os.environ.get(REPORTS_ENV)
    if path:
        data = _session_config.hook.pytest_report_to_serializable(config=_session_config,
                                                                  report=report)
        with open(path, "a") as fh:
            fh.write(json.dumps(data) + "\n")
@pytest.fixture(scope="session")
def ka3d_manifest(tmp_path_factory):
    """Six short 3D Kob-Andersen LAMMPS runs (320 particles, ka3d_cool.in), made once."""
    from tiny_model import ka3d_runs

    return ka3d_runs(tmp_path_factory.mktemp("ka3d_runs"))


@pytest.fixture(scope="session")
def ternary_manifest(ka3d_manifest, tmp_path_factory):
    """Those runs as a user's own system: a 3D ternary (types 3, 7, 11 named Cu, Al, Zr) in
    Angstrom, labelled glass (T=0.05) and liquid (1.99, 0.7), in a manifest of relative paths."""
    from tiny_model import KA3D_SEEDS, labelled_manifest, to_ternary_angstrom

    folder = tmp_path_factory.mktemp("ternary")
    return labelled_manifest(ka3d_manifest, folder / "labelled.csv", seeds=KA3D_SEEDS,
                             convert=to_ternary_angstrom)
