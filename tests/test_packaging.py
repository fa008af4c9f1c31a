"""Packaging: the wheel carries the whole case library, and an installed gradcompare uses it.

The venv tests are slow (a wheel build and two venvs, shared by module-scoped fixtures) but run
by default, in CI too; xdist_group keeps them on one worker so the wheel is built once.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from compare.cases import (Case, bundled_cases_path, case_files, default_cases_path, is_bundled,
                           load_library)

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "cases"
BUNDLED_IN_WHEEL = "compare/bundled/"
# Leftovers that must not reach the copy a wheel is built from: setuptools would ship a stale
# build/lib/compare/bundled/*.yaml.
TOP_LEVEL_LEFTOVERS = {".git", "build", "dist"}
CACHES = shutil.ignore_patterns("*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis")

pytestmark = pytest.mark.xdist_group("packaging")
slow = pytest.mark.slow


def case_files_on_disk() -> dict[str, bytes]:
    """The repository's case files, by path relative to cases/ (posix), with their bytes."""
    return {p.relative_to(CASES).as_posix(): p.read_bytes() for p in case_files(CASES)}


def bundled_cases() -> list[Case]:
    library = load_library(CASES)
    assert library.cases and not library.errors, [str(e) for e in library.errors]
    return library.cases


def outside_env() -> dict[str, str]:
    """This process's environment without PYTHONPATH, which would put the worktree first."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def run(argv: list[str | Path], cwd: Path,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a command outside this test's import path; fail with its output if it fails."""
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, env=outside_env(), text=True,
                          capture_output=True, timeout=timeout)
    assert proc.returncode == 0, f"{argv} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def make_venv(where: Path) -> Path:
    """A fresh venv that sees this Python's packages (no downloads); returns its bin folder.

    It gets no pip of its own (ensurepip takes seconds): pip_install uses this Python's pip.
    """
    run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", where],
        cwd=where.parent)
    return where / ("Scripts" if os.name == "nt" else "bin")


def pip_install(bindir: Path, *args: str | Path) -> None:
    """`pip install --no-deps --force-reinstall ARGS` into the venv of `bindir`."""
    run([sys.executable, "-m", "pip", "--python", bindir / "python", "install", "-q",
         "--no-deps", "--force-reinstall", *args], cwd=bindir)


def empty_folder(tmp_path: Path) -> Path:
    """A new empty folder to run commands in."""
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def make_decoy(folder: Path) -> Path:
    """folder/cases/ with one case that is not in the bundled library."""
    decoy = folder / "cases"
    decoy.mkdir()
    (decoy / "decoy.yaml").write_text("cases:\n - name: decoy-case\n   expression: x\n"
                                      "   at: {x: 1}\n", encoding="utf-8")
    return decoy


def names_missing_from(text: str, cases: list[Case]) -> list[str]:
    """The case names that do not appear in `text` as whole names."""
    return [c.name for c in cases
            if not re.search(rf"(?<![\w-]){re.escape(c.name)}(?![\w-])", text)]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean copy of the working tree (no build leftovers), as pip would see a fresh checkout."""
    src = tmp_path_factory.mktemp("src") / "gradcompare"

    def ignore(folder: str, names: list[str]) -> set[str]:
        top = TOP_LEVEL_LEFTOVERS if Path(folder) == ROOT else set()
        return set(CACHES(folder, names)) | (top & set(names))

    shutil.copytree(ROOT, src, ignore=ignore)
    return src


@pytest.fixture(scope="module")
def wheel(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, source], cwd=out)
    wheels = list(out.glob("gradcompare-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a venv with the wheel installed; its own compare wins over the editable one."""
    bindir = make_venv(tmp_path_factory.mktemp("venv") / "wheel-venv")
    pip_install(bindir, wheel)
    return bindir


@pytest.fixture(scope="module")
def editable_venv(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a venv with `pip install -e` of the clean copy."""
    bindir = make_venv(tmp_path_factory.mktemp("venv") / "editable-venv")
    pip_install(bindir, "-e", source)
    return bindir


# -- the wheel -------------------------------------------------------------------------------
@slow
def test_wheel_carries_every_case_file_unchanged(wheel: Path) -> None:
    on_disk = case_files_on_disk()
    assert len(on_disk) >= 8
    with zipfile.ZipFile(wheel) as zf:
        shipped = {n[len(BUNDLED_IN_WHEEL):]: zf.read(n) for n in zf.namelist()
                   if n.startswith(BUNDLED_IN_WHEEL) and not n.endswith("/")}
        names = set(zf.namelist())
    assert sorted(shipped) == sorted(on_disk), "the wheel's compare/bundled/ differs from cases/"
    changed = [name for name in on_disk if shipped[name] != on_disk[name]]
    assert not changed, changed
    assert {"compare/case-schema.json", "compare/locale/en.json"} <= names


@slow
def test_wheel_carries_every_module_of_the_package(wheel: Path) -> None:
    """A new subpackage (compare/cli/, …) cannot be forgotten in pyproject's package list."""
    package = ROOT / "compare"
    modules = {p.relative_to(ROOT).as_posix() for p in package.rglob("*.py")
               if "__pycache__" not in p.parts}
    assert "compare/cli/__init__.py" in modules
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    missing = sorted(modules - names)
    assert not missing, f"modules missing from the wheel: {missing}"


# -- an installed wheel ----------------------------------------------------------------------
@slow
def test_venv_imports_its_own_installed_copy(venv: Path, tmp_path: Path) -> None:
    proc = run([venv / "python", "-c",
                "import compare, compare.cases as c; print(compare.__file__); "
                "print(c.default_cases_path())"], cwd=empty_folder(tmp_path))
    module, library = map(Path, proc.stdout.split("\n")[:2])
    prefix = venv.parent.resolve()
    assert prefix in module.resolve().parents, module
    assert library.resolve() == module.resolve().parent / "bundled"


@slow
def test_installed_list_from_an_empty_folder_shows_the_bundled_library(venv: Path,
                                                                         tmp_path: Path) -> None:
    folder = empty_folder(tmp_path)
    out = run([venv / "gradcompare", "list"], cwd=folder).stdout
    cases = bundled_cases()
    assert not names_missing_from(out, cases)
    files = len(case_files_on_disk())
    assert out.splitlines()[-1] == f"{len(cases)} cases in {files} files"
    assert f"{os.sep}compare{os.sep}bundled{os.sep}" in out
    assert not any(folder.iterdir())
    assert run([venv / "gradcompare", "--version"], cwd=folder).stdout.startswith("gradcompare ")


@slow
def test_installed_check_of_one_bundled_case_passes(venv: Path, tmp_path: Path) -> None:
    case = min(bundled_cases(), key=lambda c: (len(c.text), c.name))
    out = run([venv / "gradcompare", "check", "--case", case.name],
              cwd=empty_folder(tmp_path)).stdout
    assert out.splitlines()[-1] == "1 case checked: 1 pass, 0 fail, 0 unverified, 0 rejected"


@slow
def test_installed_cli_ignores_a_cases_folder_in_the_current_folder(venv: Path,
                                                                    tmp_path: Path) -> None:
    make_decoy(tmp_path)
    out = run([venv / "gradcompare", "list"], cwd=tmp_path).stdout
    assert "decoy" not in out
    assert not names_missing_from(out, bundled_cases())


# -- an editable install ---------------------------------------------------------------------
@slow
def test_editable_install_reads_the_checkout_cases(editable_venv: Path, source: Path,
                                                   tmp_path: Path) -> None:
    out = run([editable_venv / "gradcompare", "list"], cwd=empty_folder(tmp_path)).stdout
    assert str(source / "cases" / "") in out
    assert out.splitlines()[-1].startswith(f"{len(bundled_cases())} cases")


# -- in-process ------------------------------------------------------------------------------
def test_default_library_is_the_bundled_one_whatever_the_current_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    decoy = make_decoy(tmp_path)
    monkeypatch.chdir(tmp_path)
    path = default_cases_path()
    assert path == bundled_cases_path()
    assert tmp_path.resolve() not in path.resolve().parents
    names = [c.name for c in load_library(path).cases]
    assert names == [c.name for c in bundled_cases()]
    assert is_bundled(path) and not is_bundled(decoy) and not is_bundled("cases")


def test_is_bundled_accepts_the_library_and_what_is_inside_it(tmp_path: Path) -> None:
    root = bundled_cases_path()
    one_file = case_files(root)[0]
    assert is_bundled(root) and is_bundled(str(root)) and is_bundled(one_file)
    assert not is_bundled(root / "no-such-file.yaml")
    assert not is_bundled(root.parent)
    assert not is_bundled(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(root, target_is_directory=True)
    assert is_bundled(link)
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    assert not is_bundled(copy)
