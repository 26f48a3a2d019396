"""PyInstaller runtime hook: runs in the frozen app before Vidi's own code.

- triton is not bundled (Vidi never compiles GPU kernels at inference), and torch logs a warning about its absence on
  import (``flop counting will not work for triton kernels``): keep that out of the user's terminal.
- A windowed executable (vidi.exe on Windows, Vidi.app on macOS) has no console: sys.stdout/sys.stderr are None, and
  libraries that print progress (tqdm during a model download, warnings) would crash on them. Point them at the null
  device; ``sys._vidi_no_console`` tells `vidi --self-test` to write its report to a file instead.
"""

import logging
import os
import sys

logging.getLogger("torch.utils.flop_counter").setLevel(logging.ERROR)

if sys.stdout is None or sys.stderr is None:
    sys._vidi_no_console = True
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
