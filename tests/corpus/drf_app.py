"""Django REST framework, served by gunicorn with threads (``tests.corpus.drf_app:application``)."""

from __future__ import annotations

import django
from django.conf import settings
from django.urls import path

from tests.corpus import work

settings.configure(
    DEBUG=False,
    SECRET_KEY="corpus",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["hotpath.integrations.django.HotpathMiddleware"] if work.middleware_dir() else [],
    HOTPATH={"output_dir": work.middleware_dir(), **work.MW_OPTIONS},
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    DATABASES={},
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "UNAUTHENTICATED_USER": None,
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    },
    USE_TZ=True,
)
django.setup()

from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402


class LoopView(APIView):
    def get(self, request: Request, n: int) -> Response:
        return Response(work.loop_body(n))


class SqlView(APIView):
    def get(self, request: Request) -> Response:
        return Response(work.sql_body())


class JsonView(APIView):
    def get(self, request: Request) -> Response:
        return Response(work.json_body())


class StatsView(APIView):
    def get(self, request: Request) -> Response:
        return Response(work.stats())


urlpatterns = [
    path("loop/<int:n>", LoopView.as_view()),
    path("sql", SqlView.as_view()),
    path("json", JsonView.as_view()),
    path("__stats", StatsView.as_view()),
]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
