"""A second sample monolith: a Flask app on waitress whose hot paths run pure-Python libraries.

Nobody tunes hotpath's demo to it: it checks the advisor on code the team did not write.
``app.py`` is the app, ``load.py`` its bounded request plan, ``measure_truth.py`` measures what
swapping each library for its Rust-backed drop-in really saves (``truth.json``).
"""
