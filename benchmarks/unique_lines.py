"""py-spy raw files as py-spy writes them: every line a distinct stack, with sampled lines.

py-spy's raw output has one line per distinct stack *including* the sampled line numbers, so
a real file has almost no repeated lines and its distinct stacks grow with its size (unlike
``benchmarks.generate``'s folded files, drawn from a fixed pool). Here random walks down the
synthetic program of :mod:`benchmarks.generate` (about 5,000 functions, depth 20-80) are
written once each, with small counts, until the file has the size asked for: 100 MB holds
about 53,000 lines.

The program is laid out as source files too (:func:`write_sources`): every function has a
def at its first line whose body holds every line it is sampled at, so hotpath's source
naming (sampled line -> enclosing def) has real files to read, as it does on a developer's
machine. Everything follows from the seed.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import replace
from pathlib import Path

from benchmarks.generate import ROOT_CHAIN, Program, make_program

BLOCK = 18
"""Source lines per function: a class or outer def line, the def, its body (sampled lines
are def + 2 ... def + 14)."""
_OFFSETS = (1, 2, 3, 5, 8, 13)


def laid_out_program(seed: int = 1) -> Program:
    """The synthetic program with def lines that do not overlap within a module."""
    program = make_program(seed)
    next_line: dict[str, int] = {}
    firsts = []
    for file in program.files:
        start = next_line.get(file, 1)
        next_line[file] = start + BLOCK
        firsts.append(start + 1)  # the class / outer function line comes first
    return replace(program, first_lines=firsts)


def _root_frames() -> list[tuple[str, str, int]]:
    out = []
    for text in ROOT_CHAIN:
        name, _, rest = text.rpartition(" (")
        file, _, line = rest[:-1].rpartition(":")
        out.append((name, file, int(line)))
    return out


def write_sources(root: Path, program: Program) -> int:
    """Write the program's modules under ``root``; returns the number of files."""
    files: dict[str, list[tuple[int, str]]] = {}
    for name, file, first in zip(program.names, program.files, program.first_lines, strict=True):
        files.setdefault(file, []).append((first, name))
    roots: dict[str, list[tuple[str, int]]] = {}
    for name, file, line in _root_frames():
        roots.setdefault(file, []).append((name, line))
    for file, entries in roots.items():
        # The root chain's frames sit at fixed lines; their defs start just above them.
        for name, line in entries:
            files.setdefault(file, []).append((line - 2, name))
    for file, entries in sorted(files.items()):
        lines: list[str] = []
        for first, name in sorted(entries):
            if len(lines) > first - 2:
                raise ValueError(f"overlapping definitions in {file} at line {first}")
            lines.extend([""] * (first - 2 - len(lines)))
            body = ["        x = 1"] * (BLOCK - 3)
            if ".<locals>." in name:
                outer, _, inner = name.partition(".<locals>.")
                lines.append(f"def {outer}():")
                lines.append(f"    def {inner}():")
                lines.extend(body)
                lines.append(f"    return {inner}")
            elif "." in name:
                cls, _, meth = name.partition(".")
                lines.append(f"class {cls}:")
                lines.append(f"    def {meth}(self):")
                lines.extend(body)
                lines.append("")
            else:
                lines.append("")
                lines.append(f"def {name}():")
                lines.extend(b[4:] for b in body)
                lines.append("")
        path = root / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(files)


def write_unique(path: Path, size: int, program: Program, seed: int = 1) -> int:
    """Write about ``size`` bytes of distinct stacks (one line each); returns the lines."""
    rng = random.Random(seed * 104_729 + 7)
    entries = list(range(200))
    entry_w = [1 / (r + 1) ** 0.8 for r in range(len(entries))]
    seen: set[bytes] = set()
    chain = ";".join(ROOT_CHAIN)
    names, files, firsts, callees = (
        program.names,
        program.files,
        program.first_lines,
        program.callees,
    )
    written = lines = 0
    buf: list[str] = []
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        while written < size:
            # Depth 20-80, mostly shallow (mean 40): few stacks are very deep.
            depth = 20 + int(61 * rng.random() ** 2) - len(ROOT_CHAIN)
            fn = rng.choices(entries, entry_w)[0]
            frames = [chain]
            for _ in range(depth):
                line = firsts[fn] + 1 + rng.choice(_OFFSETS)
                frames.append(f"{names[fn]} ({files[fn]}:{line})")
                outs = callees[fn]
                fn = outs[0] if rng.random() < 0.6 else rng.choice(outs)
            text = ";".join(frames)
            digest = hashlib.blake2b(text.encode(), digest_size=12).digest()
            if digest in seen:
                continue
            seen.add(digest)
            out = f"{text} {1 + int(rng.expovariate(0.7))}\n"
            buf.append(out)
            written += len(out)
            lines += 1
            if len(buf) >= 2048:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))
    tmp.replace(path)
    return lines


def ensure_unique(data: Path, size: int, seed: int = 1) -> tuple[Path, Path]:
    """The unique-line file of ``size`` bytes and the source tree it was sampled from."""
    program = laid_out_program(1)
    src = data / "unique-src"
    if not (src / ".done").exists():
        write_sources(src, program)
        (src / ".done").write_text("")
    path = data / f"unique-{size}-s{seed}.raw"
    if not path.exists():
        data.mkdir(parents=True, exist_ok=True)
        write_unique(path, size, program, seed)
    return path, src
