"""Render Vidi's app icon (an SVG in resources/icons/) to the raster files installers need.

    python packaging/pyinstaller/make_icons.py OUT_DIR

writes OUT_DIR/vidi-{16..512}.png (Qt's SVG renderer), OUT_DIR/vidi.ico (Windows: exe and Inno Setup) and
OUT_DIR/vidi.icns (macOS .app), the last two with Pillow. Generated at build time: no binary icon is committed.
The SVG used is the first of resources/icons/vidi.svg, resources/icons/app.svg that exists.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SVG_CANDIDATES = ("vidi.svg", "app.svg")
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def find_svg() -> Path:
    for name in SVG_CANDIDATES:
        path = ROOT / "resources" / "icons" / name
        if path.is_file():
            return path
    raise SystemExit(f"make_icons: no app icon in resources/icons/ (looked for {', '.join(SVG_CANDIDATES)})")


def render_pngs(svg: Path, out_dir: Path) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841  (QPainter on QImage needs a Gui app)
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {svg} is not a valid SVG")
    written = []
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        path = out_dir / f"vidi-{size}.png"
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"make_icons: cannot write {path}")
        written.append(path)
    return written


def write_ico_icns(out_dir: Path) -> None:
    from PIL import Image

    big = Image.open(out_dir / "vidi-512.png").convert("RGBA")
    ico_sizes = [(size, size) for size in (16, 24, 32, 48, 64, 128, 256)]
    big.save(out_dir / "vidi.ico", format="ICO", sizes=ico_sizes)
    big.save(out_dir / "vidi.icns", format="ICNS")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = Path(argv[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    svg = find_svg()
    render_pngs(svg, out_dir)
    write_ico_icns(out_dir)
    print(f"make_icons: {svg.relative_to(ROOT)} -> {out_dir} (png {SIZES[0]}..{SIZES[-1]}, ico, icns)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
