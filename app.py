"""Open the NN Studio window: ``python app.py [project.nnproj | data.csv]``.

Without an argument the window opens on the built-in Iris dataset with a default network,
ready to press Train.
"""
import sys

from nnstudio.gui.launch import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
