"""A plain WSGI app for the gunicorn --subprocesses test: each request burns some CPU."""


def burn(n: int) -> int:
    return sum(i * i for i in range(n))


def application(environ, start_response):  # type: ignore[no-untyped-def]
    body = str(burn(40_000)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
