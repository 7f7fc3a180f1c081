"""The pip path (pyproject.toml, requirements.lock) and the conda path (environment.yml) pin the same."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version

from grader.course import REPO

PIN = re.compile(r"^\s*-\s*([A-Za-z0-9_.\-]+)==([^\s#]+)\s*$")


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["dev"]
    pins = {}
    for requirement in requirements:
        name, _, pinned = requirement.partition("==")
        assert pinned, f"pyproject.toml: {requirement!r} is not pinned with =="
        pins[name.lower()] = pinned
    return pins


def environment_pins() -> dict[str, str]:
    lines = (REPO / "environment.yml").read_text().splitlines()
    return {m.group(1).lower(): m.group(2) for line in lines if (m := PIN.match(line))}


def test_environment_yml_pins_equal_pyproject():
    assert environment_pins() == pyproject_pins()


def test_lock_file_agrees_with_pins():
    lock = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        name, _, pinned = line.partition("==")
        lock[name.lower().replace("_", "-")] = pinned
    for name, pinned in pyproject_pins().items():
        assert lock.get(name.replace("_", "-")) == pinned, f"requirements.lock pins {name} differently"


def test_installed_versions_are_the_pinned_ones():
    for name, pinned in pyproject_pins().items():
        assert version(name) == pinned, f"{name} {version(name)} is installed; the course pins {pinned}"
