"""Capture from Python: what a record holds, and every bound holding under pressure."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from hotpath.errors import ConfigError
from hotpath.prove.capture import REDACTED, capture, capture_calls
from hotpath.prove.files import read_capture
from tests.prove import textlib


def test_capture_records_args_result_and_times(tmp_path: Path) -> None:
    out = tmp_path / "d.json"
    with capture("tests.prove.textlib:distance", out) as cap:
        assert textlib.distance("kitten", "sitting") == 3
        assert textlib.distance(a="", b="ab") == 2
    assert textlib.distance.__name__ == "distance" and not hasattr(
        textlib.distance, "__hotpath_capture__"
    )  # restored on leaving
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    c = read_capture(str(out))
    assert (c.function, c.calls, c.params) == ("tests.prove.textlib:distance", 2, ["a", "b"])
    assert c.file == textlib.distance.__code__.co_filename and c.line == 8
    first, second = c.records
    assert (first.args, first.kwargs, first.result, first.exact) == (
        ["kitten", "sitting"], {}, 3, True
    )  # fmt: skip
    assert second.kwargs == {"a": "", "b": "ab"} and second.result == 2
    assert first.wall_s > 0 and first.cpu_s >= 0
    assert cap.requests == 0


def test_capture_records_the_exception_type_and_reraises(tmp_path: Path) -> None:
    out = tmp_path / "f.json"
    with capture("tests.prove.textlib:fails", out):
        for x in range(6):
            with contextlib.suppress(KeyError):
                textlib.fails(x)
    raised = [r.raised for r in read_capture(str(out)).records]
    assert raised == ["KeyError", None, None, "KeyError", None, None]


def test_capture_keeps_a_uniform_sample_of_at_most_max_calls(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    with capture("tests.prove.textlib:echo", out, max_calls=50, seed=7, max_overhead=1000.0):
        for i in range(5000):
            textlib.echo(i)
    c = read_capture(str(out))
    assert c.calls == 5000 and len(c.records) == 50
    seen = sorted(r.args[0] for r in c.records)
    assert seen == sorted(r.n for r in c.records)  # n is the call's number
    # Reservoir sampling: the kept calls spread over the whole run, not the first 50.
    assert sum(1 for n in seen if n >= 2500) >= 10, seen


def test_capture_bytes_bound_holds(tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    with capture("tests.prove.textlib:echo", out, max_bytes=20_000, max_overhead=1000.0) as cap:
        for i in range(200):
            textlib.echo("y" * 1000, i)
    doc = json.loads(out.read_text())
    records_bytes = sum(len(json.dumps(r, separators=(",", ":"))) for r in doc["records"])
    assert records_bytes <= 20_000
    assert doc["skipped"]["bytes"] > 0 and len(doc["records"]) < 200
    assert cap.options.max_bytes == 20_000


def test_capture_overhead_bound_skips_expensive_records(tmp_path: Path) -> None:
    out = tmp_path / "o.json"
    big = list(range(1000))
    with capture("tests.prove.textlib:echo", out, max_overhead=0.01):
        for _ in range(300):
            textlib.echo(big)  # encoding 1,000 ints costs far more than the call
    doc = json.loads(out.read_text())
    assert doc["calls"] == 300 and doc["skipped"]["overhead"] > 0
    assert len(doc["records"]) < 300


def test_capture_redaction_hook_sees_names_and_results(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    seen: list[str] = []

    def redact(name: str, value: Any) -> Any:
        seen.append(name)
        if name == "b":
            return REDACTED
        if name == "return":
            raise RuntimeError("a broken hook")  # withholds the value, never leaks it
        return value

    with capture("tests.prove.textlib:distance", out, redact=redact):
        textlib.distance("secret-a", "secret-b")
    text = out.read_text()
    assert "secret-b" not in text and "secret-a" in text
    rec = read_capture(str(out)).records[0]
    assert rec.args[1] == {"$t": "redacted", "type": "str"} and not rec.exact
    assert rec.result == {"$t": "redacted", "type": "int"}
    assert seen == ["a", "b", "return"]


def test_capture_counts_every_call_from_many_threads(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(500):
                assert textlib.distance(f"a{k}", f"b{i}") == textlib.distance.__wrapped__(  # type: ignore[attr-defined]
                    f"a{k}", f"b{i}"
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with capture("tests.prove.textlib:distance", out, max_calls=100, max_overhead=1000.0):
        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    c = read_capture(str(out))
    assert c.calls == 8 * 500 and len(c.records) == 100
    assert len({r.n for r in c.records}) == 100
    for r in c.records:
        assert r.result == textlib.distance(*r.args)


def test_capture_decorator_writes_on_request(tmp_path: Path) -> None:
    out = tmp_path / "dec.json"

    @capture_calls(out)
    def double(x: int) -> int:
        return 2 * x

    assert [double(i) for i in range(3)] == [0, 2, 4]
    double.__hotpath_capture__.write()  # type: ignore[attr-defined]
    c = read_capture(str(out))
    assert c.function.endswith(":test_capture_decorator_writes_on_request.<locals>.double")
    assert [r.result for r in c.records] == [0, 2, 4]


def test_capture_refuses_what_it_cannot_record(tmp_path: Path) -> None:
    async def coro() -> None:
        pass

    with pytest.raises(ConfigError, match="coroutine"):
        capture_calls(tmp_path / "x.json")(coro)
    asyncio.run(coro())
    for target, match in [
        ("nocolon", "module:qualname"),
        ("no.such.module:f", "cannot import"),
        ("tests.prove.textlib:nothing", "has no"),
    ]:
        with pytest.raises(ConfigError, match=match):
            capture(target, tmp_path / "x.json").install()
    with capture("tests.prove.textlib:echo"), pytest.raises(ConfigError, match="already"):
        capture("tests.prove.textlib:echo").install()
    with pytest.raises(ConfigError, match="unknown capture option"):
        capture("tests.prove.textlib:echo", calls=3)


def test_capture_failing_inside_never_reaches_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hotpath.prove.capture as capture_module

    def broken(*_a: Any, **_k: Any) -> str:
        raise OSError("disk on fire")

    out = tmp_path / "x.json"
    with capture("tests.prove.textlib:distance", max_overhead=1000.0) as cap:
        monkeypatch.setattr(capture_module.json, "dumps", broken)  # every record fails
        assert [textlib.distance("ab", "b" * i) for i in range(5)] == [2, 1, 1, 2, 3]
        monkeypatch.undo()
    cap.write(out)
    doc = json.loads(out.read_text())
    assert doc["calls"] == 5 and doc["records"] == [] and doc["skipped"]["failed"] == 5
