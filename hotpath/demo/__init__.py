"""The sample monolith: a stdlib-only WSGI app with endpoints of known, self-measured cost.

``app`` serves it (threaded, loopback) or runs it in-process (``--batch``); ``load`` drives a
bounded load against it; ``truth`` says what each endpoint is and what the advisor should say.
"""
