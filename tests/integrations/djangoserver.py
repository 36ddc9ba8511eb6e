"""A Django project in one file, served on 127.0.0.1 with hotpath in ``MIDDLEWARE``.

    python -m tests.integrations.djangoserver OUT_DIR PORT_FILE

Runs until SIGTERM (hotpath's handler flushes, then the default action ends the process).
"""

from __future__ import annotations

import os
import signal
import sys

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

from tests.collect.sample_apps import burn


def order(request: HttpRequest, id: int) -> HttpResponse:
    return HttpResponse(f"order {id} {burn(20000)}")


urlpatterns = [path("orders/<int:id>/", order)]


def main() -> None:
    out, port_file = sys.argv[1], sys.argv[2]
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["hotpath.integrations.django.HotpathMiddleware"],
        HOTPATH={"output_dir": out, "sample_fraction": 1.0, "flush_interval_s": 3600},
    )
    import django
    from django.core.wsgi import get_wsgi_application

    django.setup()
    from tests.collect.webapps import serve_wsgi

    with serve_wsgi(get_wsgi_application()) as port:
        with open(port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(port_file + ".tmp", port_file)
        while True:
            signal.pause()


if __name__ == "__main__":
    main()
