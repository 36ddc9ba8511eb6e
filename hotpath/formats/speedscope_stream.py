"""Reading huge speedscope files in constant memory.

py-spy writes one ``samples`` entry (a list of frame indices) and one ``weights`` entry per
sample, so a 48-hour recording is hundreds of MB of JSON; parsed whole it takes ten times
its size in memory. Here the file is read in blocks: the ``samples`` and ``weights`` arrays
are consumed as they stream past (each distinct sample text gets a small id; ids and
weights go into compact arrays), and everything else, the small "skeleton" (frames, names,
units), is kept and parsed as JSON at the end. Each array is replaced in the skeleton by a
placeholder; the aggregated samples (distinct stacks, summed weights) then go through the
speedscope reader's own validation and interning, and the metadata that depends on the
individual samples (sample count, interval) is computed from the streamed originals.
:mod:`hotpath.formats.speedscope` calls this module; it does not call back.

A key is recognised only after ``{`` or ``,``: inside a JSON string a quote is always
escaped, so the pattern cannot match string content.
"""

from __future__ import annotations

import io
import json
import math
import re
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from hotpath.errors import ProfileParseError
from hotpath.formats.jsondoc import load_json

BLOCK_BYTES = 1024**2
"""Small enough that splitting a block of weights ("0.01,0.01,...") into objects stays small."""
_KEY = re.compile(rb'[{,]\s*"(samples|weights)"\s*:\s*\[')
_OVERLAP = 256  # longest key match we look for across a block boundary
_WS = b" \t\r\n"
# The end of a samples array: "]" after the last sample's "]", or right away when empty.
_SAMPLES_END = re.compile(rb"\]\s*\]|\A\s*\]")
_PLACEHOLDER = "\x00hotpath-stream-{}"
_SAMPLE_CHARS = b"0123456789,[]"
_NUMBER_EXTRA = b".eE+-"


@dataclass
class _Arrays:
    """The streamed content of one ``samples`` or ``weights`` array."""

    ids: array[int] = field(default_factory=lambda: array("I"))
    weights: array[float] = field(default_factory=lambda: array("d"))


class _SampleIds(dict[bytes, int]):
    """Distinct sample text (``1,2,3``) -> id, shared by all profiles of the file."""

    def __missing__(self, key: bytes) -> int:
        n = self[key] = len(self)
        return n


Originals = dict[int, tuple[int, set[float]]]
"""Per streamed profile (its index): how many samples it had, and its distinct weights."""


def load_streamed(stream: BinaryIO, path: str) -> tuple[Any, Originals]:
    """Parse a speedscope file, its samples and weights aggregated as they stream past.

    Returns the document, whose ``samples``/``weights`` arrays hold the distinct stacks and
    their summed weights, and what the aggregation hides (see :data:`Originals`). Raises
    :class:`ProfileParseError` on a file this scanner does not follow (the caller then
    parses the whole document, which gives the exact error).
    """
    scanner = _Scanner(path)
    skeleton = scanner.run(stream)
    doc = load_json(io.BytesIO(skeleton), path)
    return doc, scanner.substitute(doc)


def _find_end(data: bytes, samples: bool) -> tuple[int, int]:
    """Where the array closes in ``data``: (start of the match, end), or (-1, -1)."""
    if not samples:
        i = data.find(b"]")
        return (i, i + 1) if i >= 0 else (-1, -1)
    if len(data.translate(None, _WS)) == len(data):  # compact JSON: plain find is enough
        if data.startswith(b"]"):
            return 0, 1
        i = data.find(b"]]")
        return (i, i + 2) if i >= 0 else (-1, -1)
    m = _SAMPLES_END.search(data)
    return (m.start(), m.end()) if m else (-1, -1)


class _Scanner:
    def __init__(self, path: str) -> None:
        self.path = path
        self.arrays: list[_Arrays] = []
        self.kinds: list[str] = []
        self.sample_ids = _SampleIds()

    def fail(self, reason: str) -> ProfileParseError:
        return ProfileParseError(self.path, reason)

    def run(self, stream: BinaryIO) -> bytes:
        """Consume the stream; return the skeleton JSON with placeholders for the arrays."""
        out: list[bytes] = []
        buf = b""
        eof = False
        while True:
            chunk = b"" if eof else stream.read(BLOCK_BYTES)
            eof = eof or not chunk
            buf += chunk
            m = _KEY.search(buf)
            if m is None:
                if eof:
                    out.append(buf)
                    return b"".join(out)
                keep = min(len(buf), _OVERLAP)
                out.append(buf[: len(buf) - keep])
                buf = buf[len(buf) - keep :]
                continue
            kind = m.group(1).decode()
            n = len(self.arrays)
            out.append(buf[: m.start()])
            out.append(buf[m.start() : m.start() + 1])  # the { or ,
            out.append(f'"{kind}":{json.dumps(_PLACEHOLDER.format(n))}'.encode())
            arrays = _Arrays()
            self.arrays.append(arrays)
            self.kinds.append(kind)
            buf = self.consume(buf[m.end() :], stream, kind, arrays)

    def consume(self, data: bytes, stream: BinaryIO, kind: str, arrays: _Arrays) -> bytes:
        """Stream one array's content; return what follows its closing bracket."""
        samples = kind == "samples"
        cut = b"]" if samples else b","
        while True:
            start, end = _find_end(data, samples)
            if start >= 0:
                # samples: keep the last sample's "]" (none when the array ends at once)
                self.add(kind, data[: start + (1 if samples and start else 0)], arrays)
                return data[end:]
            last = data.rfind(cut)
            if last >= 0:  # whole entries so far: add them, keep the partial one
                self.add(kind, data[: last + 1 if samples else last], arrays)
                data = data[last + 1 if samples else last :]
            chunk = stream.read(BLOCK_BYTES)
            if not chunk:
                raise self.fail("invalid JSON: the file ends inside an array (truncated?)")
            data += chunk

    def add(self, kind: str, body: bytes, arrays: _Arrays) -> None:
        body = body.translate(None, _WS)  # no strings inside: whitespace means nothing
        if kind == "samples":
            if body.strip(b","):
                self.add_samples(body, arrays)
        else:
            self.add_weights(body, arrays)

    def add_samples(self, body: bytes, arrays: _Arrays) -> None:
        """``body`` is whole samples: ``[1,2],[3]`` (maybe with a leading comma)."""
        rest = body.translate(None, _SAMPLE_CHARS)
        if rest and rest.translate(None, _NUMBER_EXTRA):
            raise self.fail("samples: a sample must be a list of frame indices")
        body = body.lstrip(b",")
        if not body.startswith(b"[") or not body.endswith(b"]"):
            raise self.fail("samples: a sample must be a list of frame indices")
        parts = body[1:-1].split(b"],[")
        arrays.ids.extend(map(self.sample_ids.__getitem__, parts))

    def add_weights(self, body: bytes, arrays: _Arrays) -> None:
        body = body.strip(b",")
        if not body:
            return
        try:
            values = array("d", map(float, body.split(b",")))
        except ValueError:
            raise self.fail("weights: every weight must be a non-negative number") from None
        if min(values) < 0 or not math.isfinite(math.fsum(values)):
            raise self.fail("weights: every weight must be a non-negative number")
        arrays.weights.extend(values)

    def substitute(self, doc: Any) -> dict[int, tuple[int, set[float]]]:
        """Put aggregated samples and weights in place of the placeholders.

        Returns, per profile index, the original sample count and distinct weights.
        """
        texts = list(self.sample_ids)
        same: Any = {}.setdefault
        lists: dict[int, list[Any]] = {}
        originals: dict[int, tuple[int, set[float]]] = {}
        profiles = doc.get("profiles") if isinstance(doc, dict) else None
        for k, p in enumerate(profiles if isinstance(profiles, list) else []):
            if not isinstance(p, dict):
                continue
            si, wi = _slot(p.get("samples")), _slot(p.get("weights"))
            if si is None and wi is None:
                continue
            if si is None or wi is None or self.kinds[si] != "samples":
                raise self.fail(f"profiles[{k}]: a sampled profile needs 'samples' and 'weights'")
            ids, weights = self.arrays[si].ids, self.arrays[wi].weights
            if len(ids) != len(weights):
                raise self.fail(
                    f"profiles[{k}]: {len(ids)} samples but {len(weights)} weights (must be equal)"
                )
            acc: dict[int, float] = {}
            if weights and weights.count(weights[0]) == len(weights):
                w0 = weights[0]
                acc = {i: n * w0 for i, n in Counter(ids).items()}
                distinct = {w0}
            else:
                get = acc.get
                for i, w in zip(ids, weights, strict=True):
                    acc[i] = get(i, 0.0) + w
                distinct = set(weights)
            samples_out = []
            for i in acc:
                if i not in lists:
                    try:
                        # One int object per frame index, not one per occurrence.
                        lists[i] = [same(v, v) for v in json.loads(b"[" + texts[i] + b"]")]
                    except (ValueError, TypeError):
                        raise self.fail(
                            f"profiles[{k}].samples: a sample must be a list of frame indices"
                        ) from None
                samples_out.append(lists[i])
            p["samples"], p["weights"] = samples_out, list(acc.values())
            originals[k] = (len(ids), distinct)
        return originals


def _slot(value: object) -> int | None:
    prefix = _PLACEHOLDER.format("")
    if isinstance(value, str) and value.startswith(prefix):
        return int(value[len(prefix) :])
    return None
