"""Thread-pool servers with self-measuring apps, for the live CPU-accuracy tests.

Each app has the same three endpoints (a pure-Python loop, a SQLite query, a big
``json.dumps``); each measures its own ``time.thread_time()`` per request and serves the
totals at ``GET /__stats`` (see :mod:`tests.collect.threadpool.work`).
"""
