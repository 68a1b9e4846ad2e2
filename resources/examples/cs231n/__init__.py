"""A cs231n-style assignment package (layers.py, classifiers/fc_net.py), for NN Studio's examples.

Written in the course's conventions so that NN Studio's loaders can be shown on code shaped
like a student's: ``nnstudio gradcheck DATA --model resources/examples/cs231n/classifiers/
fc_net.py:FullyConnectedNet`` and ``--custom-layer resources/examples/cs231n/layers.py``.
"""
