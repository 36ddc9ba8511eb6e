"""Django REST framework app (WSGI): ``gunicorn -k gthread --threads 4
tests.collect.threadpool.drf_app:application`` or ``waitress-serve ...drf_app:application``.
"""

from __future__ import annotations

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="hotpath-test",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    DATABASES={},
    MIDDLEWARE=[],
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "UNAUTHENTICATED_USER": None,
    },
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from tests.collect.threadpool import work  # noqa: E402


class LoopView(APIView):
    def get(self, request: Request) -> Response:
        return Response(work.run("loop"))


class SqliteView(APIView):
    def get(self, request: Request) -> Response:
        return Response(work.run("sqlite"))


class JsonView(APIView):
    def get(self, request: Request) -> Response:
        return Response(work.run("json"))


class StatsView(APIView):
    def get(self, request: Request) -> Response:
        return Response(work.stats())


urlpatterns = [
    path("loop", LoopView.as_view()),
    path("sqlite", SqliteView.as_view()),
    path("json", JsonView.as_view()),
    path("__stats", StatsView.as_view()),
]

application = get_wsgi_application()
