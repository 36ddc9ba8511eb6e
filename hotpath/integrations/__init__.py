"""One-line integrations of the hotpath middleware with web frameworks.

- Django / DRF: add ``"hotpath.integrations.django.HotpathMiddleware"`` first in
  ``MIDDLEWARE`` (options in ``settings.HOTPATH = {...}``);
- Flask: ``hotpath.integrations.flask.init_app(app, **options)``;
- Quart: ``hotpath.integrations.quart.init_app(app, **options)``;
- Falcon: ``app = hotpath.integrations.falcon.instrument(app, **options)``;
- Pyramid: ``config.include("hotpath.integrations.pyramid")`` and ``WSGIMiddleware``;
- aiohttp, Tornado, Sanic: ``hotpath.integrations.<name>.init_app(app, **options)``;
- FastAPI/Starlette/Litestar: ``hotpath.middleware.ASGIMiddleware``; Bottle and any WSGI
  app: ``hotpath.middleware.WSGIMiddleware``.

See docs/middleware.md for the route each one names.
"""
