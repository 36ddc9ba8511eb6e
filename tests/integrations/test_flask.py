"""Flask: ``init_app`` labels requests with the URL rule, served by werkzeug on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hotpath.formats import read_profiles
from hotpath.integrations.flask import init_app
from tests.collect.sample_apps import burn
from tests.collect.webapps import raw_request


@contextmanager
def serve(app: object) -> Iterator[int]:
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app, threaded=True)  # type: ignore[arg-type]
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    t.start()
    try:
        yield srv.server_port
    finally:
        srv.shutdown()
        t.join()


def test_flask_init_app_labels_route_template_not_url(tmp_path: Path) -> None:
    from flask import Flask

    app = Flask("shop")

    @app.route("/orders/<int:id>")
    def order(id: int) -> str:
        return f"order {id} {burn(20000)}"

    @app.route("/orders/<int:id>", methods=["DELETE"])
    def delete_order(id: int) -> str:
        return "deleted"

    mw = init_app(app, output_dir=str(tmp_path), sample_fraction=1.0)
    with serve(app) as port:
        for i in range(12):
            response = raw_request(port, f"/orders/{1000 + i}?q=zz91")
            assert f"\r\n\r\norder {1000 + i} ".encode() in response
        assert b" 404 " in raw_request(port, "/nowhere-zz91")
    mw.recorder.flush()
    profile = read_profiles([tmp_path])
    assert {ep: r.count for ep, r in profile.requests.items()} == {
        "GET /orders/<int:id>": 12,
        "GET <unmatched>": 1,
    }
    assert "GET /orders/<int:id>" in profile.label_values("endpoint")
    assert not any("1000" in v or "zz91" in v for v in profile.label_values("endpoint"))
    # the sampled stacks reach the view function (nested in the test: `...<locals>.order`)
    names = {f.name.rsplit(".", 1)[-1] for f in profile.frames}
    assert {"order", "burn"} <= names
