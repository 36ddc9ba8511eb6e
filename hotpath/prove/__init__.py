"""Proving the advice before anyone writes Rust: capture real calls, replay them.

- :mod:`hotpath.prove.capture`: record a bounded sample of one function's real calls
  (``capture(...)`` context manager, ``capture_calls(...)`` decorator, the middleware's
  ``capture=`` option, the pytest plugin's ``--hotpath-capture``, ``hotpath capture``);
- :mod:`hotpath.prove.values`: the tagged-JSON values those records hold (no pickle);
- :mod:`hotpath.prove.replay`: call a replacement on the recorded inputs, compare, time;
- :mod:`hotpath.prove.evidence`: what the advisor takes from them (``analyze --replay``,
  ``--capture``).

Nothing here is imported by ``import hotpath.middleware`` unless a capture is asked for.
"""
