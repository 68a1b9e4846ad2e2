"""Tests of nnstudio.data."""
