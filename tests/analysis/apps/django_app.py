"""A real Django app (function and class-based views) served by wsgiref on 127.0.0.1."""

from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django
from django.conf import settings
from django.http import JsonResponse
from django.urls import path
from django.views import View

settings.configure(
    DEBUG=False,
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    SECRET_KEY="test-only",
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)
django.setup()


def burn(n: int) -> int:
    return sum(i * i for i in range(n))


def order_detail(request, order_id):  # type: ignore[no-untyped-def]
    return JsonResponse({"id": order_id, "v": burn(60_000)})


class ReportView(View):
    def get(self, request):  # type: ignore[no-untyped-def]
        return JsonResponse({"v": burn(30_000)})


urlpatterns = [
    path("orders/<int:order_id>", order_detail),
    path("report", ReportView.as_view()),
]


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
        pass


from django.core.wsgi import get_wsgi_application  # noqa: E402

httpd = make_server(
    "127.0.0.1", 0, get_wsgi_application(), server_class=Server, handler_class=Quiet
)
print(httpd.server_address[1], flush=True)
httpd.serve_forever()
