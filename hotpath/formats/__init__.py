"""Profile file formats: reading files into a :class:`~hotpath.model.Profile`, writing them.

Each format module exposes ``SPEC``, a :class:`~hotpath.formats.spec.FormatSpec`. Readers
take a binary stream (already gunzipped when the file was gzip-compressed) and the name to
use in error messages. Where things live: :mod:`.spec` (what a format declares),
:mod:`.registry` (the registry, content-based detection, reading a stream), :mod:`.opening`
(files, gzip, size caps), :mod:`.many` (many files at once), :mod:`.files` (reading and
writing files). This module is the face: its names are imported on first use, so
importing one format module does not import them all.
"""

from __future__ import annotations

import typing as _typing

from hotpath._lazy import lazy_attributes as _lazy_attributes

if _typing.TYPE_CHECKING:
    from hotpath.formats.files import (
        read_bytes,
        read_profile,
        read_profiles,
        write_profile,
    )
    from hotpath.formats.many import expand_paths
    from hotpath.formats.opening import DEFAULT_MAX_DECOMPRESSED, open_profile, wrap_stream
    from hotpath.formats.registry import (
        REGISTRY,
        detect,
        format_names,
        read_stream,
        readable_format_names,
        spec_of_stream,
        writable_format_names,
    )
    from hotpath.formats.spec import Accumulator, FormatSpec, ProgressFn, Reader, Writer

_LAZY = {
    "DEFAULT_MAX_DECOMPRESSED": "hotpath.formats.opening",
    "open_profile": "hotpath.formats.opening",
    "wrap_stream": "hotpath.formats.opening",
    "REGISTRY": "hotpath.formats.registry",
    "detect": "hotpath.formats.registry",
    "format_names": "hotpath.formats.registry",
    "readable_format_names": "hotpath.formats.registry",
    "read_stream": "hotpath.formats.registry",
    "spec_of_stream": "hotpath.formats.registry",
    "writable_format_names": "hotpath.formats.registry",
    "Accumulator": "hotpath.formats.spec",
    "FormatSpec": "hotpath.formats.spec",
    "ProgressFn": "hotpath.formats.spec",
    "Reader": "hotpath.formats.spec",
    "Writer": "hotpath.formats.spec",
    "expand_paths": "hotpath.formats.many",
    "read_bytes": "hotpath.formats.files",
    "read_profile": "hotpath.formats.files",
    "read_profiles": "hotpath.formats.files",
    "write_profile": "hotpath.formats.files",
}

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED",
    "REGISTRY",
    "Accumulator",
    "FormatSpec",
    "ProgressFn",
    "Reader",
    "Writer",
    "detect",
    "expand_paths",
    "format_names",
    "open_profile",
    "read_bytes",
    "read_profile",
    "read_profiles",
    "read_stream",
    "readable_format_names",
    "spec_of_stream",
    "wrap_stream",
    "writable_format_names",
    "write_profile",
]

if not _typing.TYPE_CHECKING:  # type checkers see the imports above instead
    __getattr__, __dir__ = _lazy_attributes(__name__, _LAZY, __all__)
