"""Deterministic inputs of the second monolith: documents, settings files, names, sales rows."""

from __future__ import annotations

import random

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "theta",
    "kappa",
    "lambda",
    "sigma",
    "omega",
    "river",
    "mountain",
    "forest",
    "harbour",
    "lantern",
    "copper",
    "velvet",
    "meadow",
    "signal",
    "vector",
    "kernel",
    "buffer",
    "socket",
    "thread",
    "engine",
    "garden",
    "winter",
    "summer",
    "autumn",
    "spring",
    "planet",
    "comet",
    "orbit",
    "lattice",
    "prism",
    "quartz",
    "ember",
]


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    for i in range(0, n, 7):
        words[i] = f"*{words[i]}*" if i % 2 else f"**{words[i]}**"
    return " ".join(words).capitalize() + "."


def article(seed: int) -> str:
    """A Markdown article of about 5 KB: headings, paragraphs, lists, links, code, quotes."""
    rng = random.Random(seed)
    parts = [f"# Article {seed}\n"]
    for section in range(6):
        parts.append(f"## Section {section}: {rng.choice(WORDS)}\n")
        parts.append(" ".join(_sentence(rng, 14) for _ in range(4)) + "\n")
        parts.append("\n".join(f"- {_sentence(rng, 6)} [link](http://x/{i})" for i in range(5)))
        parts.append("\n> " + _sentence(rng, 12) + "\n")
        parts.append("```\ncode line one\ncode line two\n```\n")
        parts.append("1. " + _sentence(rng, 8) + "\n2. `inline` " + _sentence(rng, 8) + "\n")
    return "\n".join(parts)


def settings(seed: int) -> str:
    """A YAML settings file of about 4 KB: nested mappings, lists, scalars of every kind."""
    rng = random.Random(seed)
    lines = [f"service: app-{seed}", "version: 3", "features:"]
    lines += [f"  - {rng.choice(WORDS)}-{i}" for i in range(12)]
    lines.append("backends:")
    for i in range(14):
        lines += [
            f"  {rng.choice(WORDS)}_{i}:",
            f"    host: 10.0.{i}.{rng.randrange(255)}",
            f"    port: {8000 + i}",
            f"    weight: {rng.random():.3f}",
            f"    enabled: {'true' if rng.random() < 0.7 else 'false'}",
            f"    tags: [{', '.join(rng.choice(WORDS) for _ in range(4))}]",
            f'    note: "{_sentence(rng, 5)}"',
        ]
    return "\n".join(lines) + "\n"


def names(count: int = 240) -> list[str]:
    """Product names a query is matched against."""
    rng = random.Random(7)
    return [f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.randrange(100)}" for _ in range(count)]


def queries() -> list[str]:
    rng = random.Random(11)
    return [f"{rng.choice(WORDS)} {rng.choice(WORDS)}" for _ in range(50)]


def sales_rows(count: int = 20_000) -> list[tuple[int, str, str, float, int]]:
    rng = random.Random(3)
    regions = ["north", "south", "east", "west", "centre"]
    return [
        (i, rng.choice(regions), rng.choice(WORDS), round(rng.random() * 100, 2), rng.randrange(9))
        for i in range(count)
    ]


def export_payload(seed: int, count: int = 1_000) -> list[dict[str, object]]:
    rng = random.Random(seed)
    return [
        {"id": i, "name": rng.choice(WORDS), "score": rng.random(), "tags": rng.sample(WORDS, 3)}
        for i in range(count)
    ]
