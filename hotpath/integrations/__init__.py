"""One-line integrations of the hotpath middleware with web frameworks.

- Django: add ``"hotpath.integrations.django.HotpathMiddleware"`` first in ``MIDDLEWARE``
  (options in ``settings.HOTPATH = {...}``);
- Flask: ``hotpath.integrations.flask.init_app(app, **options)``;
- FastAPI/Starlette: ``app.add_middleware(hotpath.middleware.ASGIMiddleware, **options)``.
"""
