"""The CSV reader: from a file's bytes to a :class:`~nnstudio.data.dataset.Dataset`.

One module per step, in the order a file goes through them:

* :mod:`.sniff` -- encoding, delimiter, header and column names from the head of the file;
* :mod:`.pieces` -- the data region cut into streams of chunks, parsed in parallel threads;
* :mod:`.reader` -- one chunk parsed by pandas and converted to a
  :class:`~nnstudio.data.columns.PieceResult`;
* :mod:`.locate` -- a problem found while parsing, turned into a
  :class:`~nnstudio.data.errors.DataError` with file-wide row, line, column and cell;
* :mod:`.access`, :mod:`.writer`, :mod:`.assemble` -- rows selected, split and written
  into one float32 array, filled and standardized;
* :mod:`.loader` (:func:`load_csv`) and :mod:`.table` (:func:`read_table`,
  :func:`infer_schema`) -- the entry points, exported by :mod:`nnstudio.data`.

What does not depend on the file being CSV (options, errors, per-column statistics,
the schema, preprocessing, splits, standardization, the Dataset) lives one level up in
:mod:`nnstudio.data`; this package imports from there. Up there only the package's
``__init__`` (re-exporting the entry points) and :mod:`~nnstudio.data.builtin` (Iris is a
shipped CSV) import this package.
"""
