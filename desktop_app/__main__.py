"""``python -m desktop_app [VIDEO]`` starts the GUI."""

import sys

from desktop_app.app import run_gui

sys.exit(run_gui())
