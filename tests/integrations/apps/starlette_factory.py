"""A FastAPI app using the Starlette integration, for TestClient and uvicorn.

``create_app()`` reads ``GENRO_STORAGE_*`` from the environment (``StarletteStorage
.from_config``); the storage is mounted at ``/files`` and an upload endpoint uses the
``get_manager`` dependency and ``save_upload``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request, UploadFile
from starlette.routing import Mount

from genro_storage import StorageManager
from genro_storage.integrations.starlette import (
    StarletteStorage,
    get_async_manager,
    get_manager,
    save_upload,
)


def create_app(storage: StarletteStorage | None = None) -> FastAPI:
    storage = storage or StarletteStorage.from_config()
    app = FastAPI(routes=[Mount("/files", app=storage, name="files")])
    storage.install(app)

    @app.post("/upload/{mount}")
    async def upload(
        mount: str,
        file: UploadFile,
        request: Request,
        manager: StorageManager = Depends(get_manager),
    ) -> dict[str, Any]:
        node = await save_upload(file, manager.node(f"{mount}:"))
        return {"fullpath": node.fullpath, "url": storage.url_for(request, node)}

    @app.post("/aupload/{mount}")
    async def aupload(
        mount: str, file: UploadFile, manager: Any = Depends(get_async_manager)
    ) -> dict:
        node = await save_upload(file, manager.node(f"{mount}:"))
        return {"fullpath": node.fullpath, "exists": await manager.node(node.fullpath).exists()}

    @app.get("/mounts")
    def mounts(manager: StorageManager = Depends(storage.get_manager)) -> list[str]:
        return manager.get_mount_names()

    return app
