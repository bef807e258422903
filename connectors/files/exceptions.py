"""The import/export errors. Messages are sentences for the user: what went wrong and what to do."""

from __future__ import annotations


class FileImportError(RuntimeError):
    """The file as a whole cannot be imported (unreadable, empty, a required column missing): nothing loads."""


class UnreadableFileError(FileImportError):
    """The file cannot be read at all: not a CSV, Excel or Parquet file, a damaged file, a binary file."""


class MappingError(FileImportError):
    """The columns do not give what the target needs (a required field has no column, a bad --map)."""


class ExportError(RuntimeError):
    """An export or a restore cannot go ahead (unknown table, store not empty, files missing)."""
