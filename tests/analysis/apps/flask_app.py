"""A real Flask app for the recogniser tests: prints its port, serves until killed."""

from flask import Flask
from werkzeug.serving import make_server

app = Flask(__name__)


def burn(n: int) -> int:
    return sum(i * i for i in range(n))


@app.route("/items/<int:item_id>")
def get_item(item_id: int) -> dict[str, int]:
    return {"id": item_id, "v": burn(60_000)}


@app.route("/report")
def report() -> dict[str, int]:
    return {"v": burn(30_000)}


server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
