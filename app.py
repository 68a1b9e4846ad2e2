"""Open the NN Studio window: ``python app.py [project.nnproj | data.csv] [-platform NAME]
[--screenshot FILE.png]``.

Without an argument the window opens on the built-in Iris dataset with a default network,
ready to press Train. Missing system libraries of Qt's desktop platform are named (exit 2)
before Qt loads; ``python -m nnstudio.system_libs --install`` installs them.
"""
import sys

from nnstudio.gui.launch import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
