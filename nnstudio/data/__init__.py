"""Datasets for NN Studio: CSV reading, schema inference, preprocessing, built-in sets.

numpy and pandas only; nothing here imports Qt or :mod:`nnstudio.gui`.

>>> from nnstudio.data import LoadOptions, load_csv
>>> ds = load_csv("lab.csv", LoadOptions(target="species"))  # doctest: +SKIP
>>> print(ds.summary())                                      # doctest: +SKIP
"""
from .builtin import builtin_names, make_builtin
from .dataset import Dataset, LoadReport
from .errors import Cancelled, DataError
from .loader import load_csv
from .options import MISSING_TOKENS, LoadOptions
from .preprocessing import ColumnEncoding, Preprocessing
from .schema import ColumnInfo, Schema
from .standardize import Standardizer
from .table import infer_schema, read_table

__all__ = [
    "Cancelled", "ColumnEncoding", "ColumnInfo", "DataError", "Dataset", "LoadOptions",
    "LoadReport", "MISSING_TOKENS", "Preprocessing", "Schema", "Standardizer", "builtin_names",
    "infer_schema", "load_csv", "make_builtin", "read_table",
]
