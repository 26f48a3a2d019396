"""Entry script of the frozen Vidi app (PyInstaller): the same ``main`` as the ``vidi`` console script."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen app re-executes itself for any multiprocessing child
    from desktop_app.launcher import main

    sys.exit(main())
