"""Django, served by gunicorn with threads (``gunicorn tests.corpus.django_app:application``)."""

from __future__ import annotations

import django
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path

from tests.corpus import work

settings.configure(
    DEBUG=False,
    SECRET_KEY="corpus",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["hotpath.integrations.django.HotpathMiddleware"] if work.middleware_dir() else [],
    HOTPATH={"output_dir": work.middleware_dir(), **work.MW_OPTIONS},
    INSTALLED_APPS=[],
    USE_TZ=True,
)
django.setup()


def loop_view(request: HttpRequest, n: int) -> JsonResponse:
    return JsonResponse(work.loop_body(n))


def sql_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(work.sql_body())


def json_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(work.json_body())


def stats_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(work.stats())


urlpatterns = [
    path("loop/<int:n>", loop_view),
    path("sql", sql_view),
    path("json", json_view),
    path("__stats", stats_view),
]

from django.core.wsgi import get_wsgi_application  # noqa: E402  (after settings)

application = get_wsgi_application()
