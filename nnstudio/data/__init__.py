"""Datasets for NN Studio: CSV reading, schema inference, preprocessing, built-in sets.

numpy and pandas only; nothing here imports Qt or :mod:`nnstudio.gui`.

>>> from nnstudio.data import LoadOptions, load_csv
>>> ds = load_csv("lab.csv", LoadOptions(target="species"))  # doctest: +SKIP
>>> print(ds.summary())                                      # doctest: +SKIP

How files are read
------------------
The reader is the :mod:`nnstudio.data.csv` package (sniffing, pieces, reading, locating
problems, writing and assembling the arrays); the modules beside it here know nothing of
CSV.

* Parsing is done by pandas' C engine: the data region is cut into one stream per
  CPU (at most 4), each read by its own thread in chunks of about 16 MB;
  ``progress`` is reported as chunks arrive and ``cancel`` is polled meanwhile.
  Numbers go straight into float32 blocks and text into integer codes, so memory
  stays near the size of the final float32 array (``bench/csv_load.py``).
* Delimiter (``, ; tab |``), header and decimal comma (in ``;`` files) are detected
  from the first 256 KB; :class:`LoadOptions` can set them.
* Encoding: UTF-8 with or without BOM. Other ASCII-compatible encodings
  (``latin-1``, ``cp1252``...) only when named in :class:`LoadOptions`; a byte that
  is not valid text is a :class:`DataError` naming its line, column and cell.
  UTF-16/32 files are rejected with a request to save as UTF-8.
* Missing cells: empty, ``NA``, ``N/A``, ``NaN``, ``nan``, ``null``, ``?`` and a few
  variants (:data:`MISSING_TOKENS`), or only spaces.
* ``inf``, ``-inf``, ``Infinity`` and numbers beyond the float32 range are rejected
  with a :class:`DataError` naming row, line, column and value: they would only
  turn training into NaN, and treating them as missing would hide a data problem.
* Line endings: LF or CRLF (CR-only files get a :class:`DataError` asking to
  re-save them).
* Rows with more fields than there are columns are errors; rows with fewer have
  the missing fields treated as missing values. Blank lines are skipped (and
  counted as rows, so row numbers match the file).
* Row numbers in messages count data rows from 1 (header excluded); line numbers
  are lines of the file (header included).
"""
from .builtin import builtin_names, make_builtin
from .csv.loader import load_csv
from .csv.table import infer_schema, read_table
from .dataset import Dataset, LoadReport, RowReport
from .errors import Cancelled, DataError
from .options import MISSING_TOKENS, LoadOptions
from .preprocessing import ColumnEncoding, Preprocessing
from .schema import ColumnInfo, Schema
from .standardize import Standardizer

__all__ = [
    "Cancelled", "ColumnEncoding", "ColumnInfo", "DataError", "Dataset", "LoadOptions",
    "LoadReport", "MISSING_TOKENS", "Preprocessing", "RowReport", "Schema", "Standardizer",
    "builtin_names",
    "infer_schema", "load_csv", "make_builtin", "read_table",
]
