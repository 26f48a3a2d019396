"""Dependencies: what pyproject.toml asks for, the one lock of exact versions, the dev set-up that installs from it,
and the bundle collecting every runtime package's data (issue 9: a fresh installer failed its own self-test because
transformers was not pinned and `kernels`' data file was not bundled)."""

from __future__ import annotations

import importlib.metadata as metadata
import importlib.util
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "packaging" / "requirements.lock"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
CODE_SUFFIXES = (".py", ".pyc", ".pyi", ".so", ".pyd", ".dylib", ".dll", "py.typed")
NOT_DATA = re.compile(r"(^\.\./)|(/tests?/)|(/include/)|\.(h|hpp|cuh|pxd|c|md|txt|g4)$|LICENSE|README|\.so(\.\d+)*$")


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, tuple[str, str | None]]:
    """name -> (version, marker or None) of every line of the lock."""
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            [spec] = requirement.specifier
            assert spec.operator == "==", line
            pins[_key(requirement.name)] = (spec.version, str(requirement.marker) if requirement.marker else None)
    return pins


def _applies(requirement: Requirement, extra: str = "") -> bool:
    return requirement.marker is None or requirement.marker.evaluate({**default_environment(), "extra": extra})


def _closure(names) -> set[str]:
    """The installed distributions ``names`` need here, their dependencies included."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if _key(name) in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(_key(name))
        todo += [Requirement(r).name for r in dist.requires or [] if _applies(Requirement(r))]
    return seen


RUNTIME = [Requirement(r) for r in PROJECT["dependencies"]]
TEST_EXTRA = [Requirement(r) for r in PROJECT["optional-dependencies"]["test"]]


def test_checkpoints_people_have_need_sentencepiece_and_protobuf_at_run_time():
    names = {_key(r.name) for r in RUNTIME}
    assert {"sentencepiece", "protobuf"} <= names


def test_transformers_is_pinned_to_the_installed_version():
    [transformers] = [r for r in RUNTIME if _key(r.name) == "transformers"]
    assert str(transformers.specifier) == f"=={metadata.version('transformers')}"
    assert PROJECT["requires-python"].startswith(">=3.11")  # what that transformers needs


def test_the_test_extra_has_what_remote_inference_needs():
    names = {_key(r.name) for r in TEST_EXTRA}
    assert {"httpx", "keyring", "transformers"} <= names
    assert "serving" in next(r for r in TEST_EXTRA if _key(r.name) == "transformers").extras
    pins = _lock()
    assert {"openai", "fastapi", "uvicorn", "pydantic", "starlette", "rich", "httpx", "keyring"} <= set(pins)


def test_the_lock_satisfies_pyproject_and_keeps_the_torch_stack():
    pins = _lock()
    extras = PROJECT["optional-dependencies"]
    for requirement in RUNTIME + [Requirement(r) for group in extras.values() for r in group]:
        assert _key(requirement.name) in pins, f"{requirement.name} is not in the lock: run packaging/dev/lock.sh"
        assert requirement.specifier.contains(pins[_key(requirement.name)][0], prereleases=True), requirement
    assert pins["torch"][0] == "2.14.1" and pins["torchvision"][0] == "0.29.1" and pins["torchaudio"][0] == "2.11.0"
    assert pins["kernels"][0]  # transformers 5.25 requires it: locked like everything else


def test_the_environment_the_tests_run_in_is_the_locked_one():
    """A lock that differs from what the suite ran on would promise versions nobody tested."""
    pins = _lock()
    wanted = _closure([r.name for r in RUNTIME + TEST_EXTRA if _applies(r, "test")] + ["openai", "fastapi"])
    different = {name: (metadata.version(name), pins.get(name, ("not locked",))[0])
                 for name in wanted if name in pins and metadata.version(name) != pins[name][0]}
    assert different == {}, "installed vs locked; refresh the venv (setup.sh) or the lock (lock.sh)"
    assert not [name for name in wanted if name not in pins and name != "vidi"]


def _rules():
    spec = importlib.util.spec_from_file_location("bundle_rules", ROOT / "packaging/pyinstaller/bundle_rules.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bundle_collects_the_data_of_every_runtime_package():
    rules = _rules()
    covered = {_key(name) for name in rules.COLLECT_DATA} | set(rules.DATA_BY_HOOKS) | set(rules.DATA_NOT_READ)
    with_data = {}
    for name in _closure([r.name for r in RUNTIME if _applies(r)]):
        files = [str(f) for f in metadata.distribution(name).files or []
                 if ".dist-info" not in str(f) and "__pycache__" not in str(f)
                 and not str(f).endswith(CODE_SUFFIXES) and not NOT_DATA.search(str(f))]
        if files:
            with_data[name] = files[:3]
    assert {name: files for name, files in with_data.items() if name not in covered} == {}
    assert "kernels" in {_key(r.split(";")[0].split("<")[0].split(">")[0].split("=")[0])
                         for r in metadata.requires("transformers") if "extra ==" not in r}
    assert "kernels" in rules.COLLECT_DATA
    assert rules.keep("kernels/_internals/python_depends.json", "cpu", None)
    assert rules.keep("sentencepiece/package_data/nfkc.bin", "cuda", "13.0")


def test_the_bundle_carries_the_metadata_of_every_runtime_dependency():
    rules = _rules()
    bundled = {_key(name) for name in rules.METADATA_DISTS}
    assert {_key(r.name) for r in RUNTIME} <= bundled
    spec = (ROOT / "packaging/pyinstaller/vidi.spec").read_text()
    assert "bundle_rules.METADATA_DISTS" in spec and "collect_data_files(package)" in spec


@pytest.mark.parametrize("script", ["packaging/linux/build.sh", "packaging/windows/build.ps1",
                                    "packaging/macos/build_dmg.sh"])
def test_installer_builds_install_from_the_lock(script):
    text = (ROOT / script).read_text().replace("\\\n", " ")  # one line per command
    installs = [line for line in text.splitlines() if "pip install" in line and "--upgrade pip" not in line]
    assert installs and all("-c" in line and ("LOCK" in line or "Lock" in line or "requirements.lock" in line)
                            for line in installs), installs


def _fake_checkout(tmp_path: Path) -> tuple[Path, Path]:
    """setup.sh, pyproject.toml and the lock in a folder whose .venv/bin/python records how it was called."""
    checkout = tmp_path / "checkout"
    (checkout / "packaging" / "dev").mkdir(parents=True)
    for name in ("packaging/dev/setup.sh", "pyproject.toml", "packaging/requirements.lock"):
        (checkout / name).write_bytes((ROOT / name).read_bytes())
    calls = tmp_path / "pip-calls.txt"
    python = checkout / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\n')
    python.chmod(0o755)
    return checkout, calls


def _setup(checkout: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    result = subprocess.run(["bash", "packaging/dev/setup.sh"], cwd=checkout, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_dev_setup_installs_from_the_lock_once_and_again_when_the_lock_changes(tmp_path):
    checkout, calls = _fake_checkout(tmp_path)
    _setup(checkout)
    installs = calls.read_text().splitlines()
    assert installs[-1] == "-m pip install -q -e .[test] -c packaging/requirements.lock"
    _setup(checkout)
    assert calls.read_text().splitlines() == installs  # idempotent: nothing to do the second time
    lock = checkout / "packaging" / "requirements.lock"
    lock.write_text(lock.read_text().replace("rich==", "rich==0.0.0+other-"))  # a refreshed lock
    _setup(checkout)
    assert calls.read_text().splitlines()[len(installs):][-1].endswith("-c packaging/requirements.lock")
