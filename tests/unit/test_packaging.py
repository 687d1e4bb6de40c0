"""The locks install what production needs and nothing it does not: every runtime dependency
and production extra is pinned in requirements.lock, dev tools only in requirements-dev.lock."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
PRODUCTION_EXTRAS = ("postgres", "celery")
# Tools for tests and lint only: none of them belongs in a production image.
DEV_TOOLS = (
    "pytest", "hypothesis", "ruff", "playwright", "pypdfium2", "iniconfig", "sortedcontainers"
)  # fmt: skip
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(==\s*(\S+))?")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement(text: str) -> tuple[str, str | None]:
    match = REQUIREMENT.match(text)
    assert match, text
    return canonical(match.group(1)), match.group(4)


def lock(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            package, version = requirement(line)
            assert version, f"{name}: {line!r} is not pinned with =="
            assert package not in pins, f"{name}: {package} pinned twice"
            pins[package] = version
    return pins


RUNTIME, DEV = lock("requirements.lock"), lock("requirements-dev.lock")


@pytest.mark.parametrize("group", ["dependencies", *PRODUCTION_EXTRAS])
def test_every_runtime_dependency_and_production_extra_is_pinned_in_the_runtime_lock(group):
    wanted = (
        PYPROJECT["dependencies"]
        if group == "dependencies"
        else PYPROJECT["optional-dependencies"][group]
    )
    assert wanted
    for text in wanted:
        package, version = requirement(text)
        assert version, f"pyproject {group}: {text!r} is not pinned with =="
        pinned = RUNTIME.get(package)
        assert pinned == version, f"{package}: pyproject says {version}, runtime lock {pinned}"


def test_no_dev_tool_is_in_the_runtime_lock():
    assert [tool for tool in DEV_TOOLS if tool in RUNTIME] == []


def test_dev_tools_are_pinned_in_the_dev_lock_only():
    for text in PYPROJECT["optional-dependencies"]["dev"]:
        package, version = requirement(text)
        assert version, f"pyproject dev: {text!r} is not pinned with =="
        assert (RUNTIME | DEV).get(package) == version, package
    assert sorted(set(RUNTIME) & set(DEV)) == []  # one pin per package
    assert {tool for tool in DEV_TOOLS if tool in DEV} >= {"pytest", "hypothesis", "ruff"}


def test_the_makefile_installs_with_both_locks():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-c requirements.lock -c requirements-dev.lock" in makefile
