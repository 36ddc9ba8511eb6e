"""One atheris target: feeds bytes to one reader (or to detection + every reader).

Run by ``python -m fuzz``; runnable alone as
``python fuzz/target.py FORMAT CORPUS_DIR -max_total_time=60 -artifact_prefix=DIR/``.
The only acceptable outcomes are a Profile or a HotpathError: anything else is a crash and
atheris saves the input that caused it.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["hotpath"]):
    from hotpath.errors import HotpathError
    from hotpath.formats import REGISTRY, read_bytes

FORMAT = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "auto"
MAX_DECOMPRESSED = 64 * 1024**2  # fuzz inputs must stay small once gunzipped


def test_one_input(data: bytes) -> None:
    fmt = None if FORMAT == "auto" else FORMAT
    try:
        profile = read_bytes(data, "<fuzz>", fmt, max_decompressed=MAX_DECOMPRESSED)
    except HotpathError:
        return
    # A profile that was accepted must be usable downstream.
    from hotpath.analysis.pipeline import analyze

    analyze(profile)


def main() -> None:
    if FORMAT != "auto" and FORMAT not in REGISTRY:
        raise SystemExit(f"unknown format {FORMAT!r}; known: {', '.join(REGISTRY)}")
    argv = [sys.argv[0], *sys.argv[2:]] if FORMAT != "auto" or len(sys.argv) > 1 else sys.argv
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
