"""Test-suite wiring for pytest-xdist (parallel by default, see pyproject.toml)."""

from __future__ import annotations

import pytest

# Modules whose module-scoped fixture is expensive (test_reports runs the whole bundled library,
# test_handout runs its fixtures, test_html launches Chromium): every xdist worker that got one
# of their tests would compute it again, so each stays on one worker (--dist loadgroup).  test_packaging marks itself.
ONE_WORKER_PER_MODULE = ("test_reports.py", "test_handout.py", "test_html.py")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups in the same hook
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the tests of each ONE_WORKER_PER_MODULE module into one xdist group."""
    for item in items:
        if item.path.name in ONE_WORKER_PER_MODULE:
            item.add_marker(pytest.mark.xdist_group(item.path.stem))


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
