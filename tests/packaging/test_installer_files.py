"""The installer definitions are well-formed and agree with each other (they cannot all be built on this machine)."""

from __future__ import annotations

import ast
import configparser
import os
import plistlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def test_spec_is_python_and_names_the_shared_pieces():
    text = (PACKAGING / "pyinstaller/vidi.spec").read_text()
    ast.parse(text)
    for needle in ("vidi_entry.py", "rthook_vidi.py", "bundle_rules", '"resources"', "Info.plist", "vidi.entitlements",
                   "name=\"vidi\"", "Vidi.app", "vidi-console"):
        assert needle in text, needle


@pytest.mark.parametrize("script", ["linux/build.sh", "linux/smoke_test.sh", "linux/install-desktop-entry.sh",
                                    "macos/build_dmg.sh"])
def test_shell_scripts_parse(script):
    subprocess.run(["bash", "-n", str(PACKAGING / script)], check=True)


def test_linux_build_script_help_and_bad_arguments():
    script = str(PACKAGING / "linux/build.sh")
    shown = subprocess.run(["bash", script, "--help"], capture_output=True, text=True)
    assert shown.returncode == 0 and "--flavour cpu|cuda" in shown.stdout
    bad = subprocess.run(["bash", script, "--flavour", "rocm"], capture_output=True, text=True)
    assert bad.returncode == 2 and "cpu or cuda" in bad.stderr


def test_desktop_entry():
    path = PACKAGING / "linux/vidi.desktop"
    if shutil.which("desktop-file-validate"):
        subprocess.run(["desktop-file-validate", str(path)], check=True)
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(path)
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"] == "vidi %F" and desktop["Icon"] == "vidi" and desktop["Type"] == "Application"
    mime = desktop["MimeType"].split(";")
    assert "video/mp4" in mime and "video/webm" in mime and "image/png" in mime


def test_deb_control_template_depends_on_the_runtime_packages_of_the_dev_setup():
    setup = (PACKAGING / "dev/setup.sh").read_text()
    dev_packages = set(re.search(r'DEB_PACKAGES="([^"]+)"', setup, re.S).group(1).replace("\\\n", " ").split())
    build = (PACKAGING / "linux/build.sh").read_text()
    depends = re.search(r'DEB_DEPENDS="([^"]+)"', build, re.S).group(1).replace("\\\n", " ")
    runtime = {name.strip() for name in depends.split(",")}
    assert runtime == dev_packages - {"xvfb", "ffmpeg", "espeak-ng", "python3-venv"}  # those four: tests only
    control = (PACKAGING / "linux/control.in").read_text()
    for field in ("Package:", "Version:", "Architecture:", "Maintainer:", "Installed-Size:", "Depends:",
                  "Description:"):
        assert re.search(rf"^{field}", control, re.M), field


def test_macos_info_plist_has_the_keys_a_video_app_needs():
    info = plistlib.loads((PACKAGING / "macos/Info.plist").read_bytes())
    assert info["NSMicrophoneUsageDescription"].strip()
    assert info["NSHighResolutionCapable"] is True
    assert float(info["LSMinimumSystemVersion"]) >= 14.0  # torch 2.14 / PySide6 6.12 macOS wheels
    types = {t for doc in info["CFBundleDocumentTypes"] for t in doc["LSItemContentTypes"]}
    assert {"public.movie", "public.mpeg-4", "public.png", "public.jpeg"} <= types
    assert all(doc["CFBundleTypeRole"] == "Viewer" for doc in info["CFBundleDocumentTypes"])


def test_macos_entitlements():
    entitlements = plistlib.loads((PACKAGING / "macos/vidi.entitlements").read_bytes())
    for key in ("com.apple.security.device.audio-input", "com.apple.security.files.user-selected.read-only",
                "com.apple.security.cs.disable-library-validation"):
        assert entitlements[key] is True, key


def test_inno_setup_script_matches_the_build_script():
    iss = (PACKAGING / "windows/vidi.iss").read_text()
    ps1 = (PACKAGING / "windows/build.ps1").read_text()
    assert 'Source: "{#AppDir}\\*"' in iss and "recursesubdirs" in iss
    assert "OutputBaseFilename=vidi-{#AppVersion}-windows-x64-{#Flavour}-setup" in iss
    assert 'dist\\vidi-$Version-windows-x64-$Flavour-setup*' in ps1
    for define in ("/DAppVersion=", "/DFlavour=", "/DAppDir="):
        assert define in ps1, define
    assert re.search(r'#if Flavour == "cuda"\s*\n(;.*\n)*DiskSpanning=yes', iss)
    assert "vidi-console.exe\" --self-test" in ps1


def test_workflow_runs_the_packaging_scripts():
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((ROOT / ".github/workflows/installers.yml").read_text())
    runs = {job: " ".join(step.get("run", "") for step in spec["steps"]) for job, spec in workflow["jobs"].items()}
    assert "packaging/linux/build.sh --flavour" in runs["linux"]
    assert "packaging/windows/build.ps1 -Flavour" in runs["windows"]
    assert "packaging/macos/build_dmg.sh" in runs["macos"]


def test_icons_are_generated_from_the_svg(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    subprocess.run([sys.executable, str(PACKAGING / "pyinstaller/make_icons.py"), str(tmp_path)], check=True, env=env,
                   capture_output=True)
    from PIL import Image

    for size in (16, 48, 256, 512):
        assert Image.open(tmp_path / f"vidi-{size}.png").size == (size, size)
    assert Image.open(tmp_path / "vidi.ico").format == "ICO"
    assert (tmp_path / "vidi.icns").read_bytes()[:4] == b"icns"
