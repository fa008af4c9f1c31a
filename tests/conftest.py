"""Test-suite wiring for pytest-xdist (parallel by default, see pyproject.toml)."""

from __future__ import annotations

import pytest

# Modules whose module-scoped fixture is expensive (test_reports runs the whole bundled library,
# test_handout runs its fixtures, test_html launches Chromium): every xdist worker that got one
# of their tests would compute it again, so each stays on one worker (--dist loadgroup).
# test_packaging marks itself.
ONE_WORKER_PER_MODULE = {"test_reports.py": "test_reports", "test_html.py": "test_html",
                         # these two share `bundled_numeric_run`, and the torch tests below
                         # the import of torch (seconds) with test_conformance's torch engine
                         "test_handout.py": "bundled-numeric",
                         "test_conformance.py": "bundled-numeric"}
TORCH_GROUP = "bundled-numeric"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups in the same hook
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the tests of each ONE_WORKER_PER_MODULE module into its xdist group, and every test
    that imports torch (its name says so) into TORCH_GROUP."""
    for item in items:
        group = ONE_WORKER_PER_MODULE.get(item.path.name)
        if group is None and "torch" in item.name:
            group = TORCH_GROUP
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def bundled_numeric_run():
    """The bundled library and its run with the numeric reference methods (naive and backprop,
    traces recorded, one job): computed once per worker for the modules that read it."""
    from compare.cases import default_cases_path, load_library
    from compare.engine import run_library

    library = load_library(default_cases_path())
    assert library.cases and not library.errors, [str(e) for e in library.errors]
    return library, run_library(library, ["naive", "backprop"], jobs=1, record=True)


@pytest.fixture
def unreadable_subfolders(monkeypatch: pytest.MonkeyPatch):
    """Make every folder named `sub` unlistable for compare.cases, as a folder without read
    permission is (tests run as root, which reads everything, so it is simulated)."""
    import errno
    import os

    from compare import cases

    real_walk = os.walk

    def walk(top, onerror=None, **kw):
        for item in real_walk(top, onerror=onerror, **kw):
            if os.path.basename(item[0]) == "sub" and onerror:
                onerror(PermissionError(errno.EACCES, "Permission denied", item[0]))
                continue
            yield item

    monkeypatch.setattr(cases.os, "walk", walk)
