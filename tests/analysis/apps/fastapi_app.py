"""A real FastAPI app (async and sync endpoints) served by uvicorn on 127.0.0.1."""

import socket

import uvicorn
from fastapi import FastAPI

app = FastAPI()


def burn(n: int) -> int:
    return sum(i * i for i in range(n))


@app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict[str, int]:
    return {"id": item_id, "v": burn(60_000)}


@app.get("/report")
def sync_report() -> dict[str, int]:
    return {"v": burn(30_000)}


sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(128)  # listening before the port is announced: clients may connect at once
print(sock.getsockname()[1], flush=True)
config = uvicorn.Config(app, log_level="warning", access_log=False)
uvicorn.Server(config).run(sockets=[sock])
