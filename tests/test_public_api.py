"""The curated public surface: fails when the exported names drift."""

from __future__ import annotations

import inspect

import pytest

import genro_storage
from genro_storage import StorageManager, StorageNode
from genro_storage.capabilities import BackendCapabilities


def test_top_level_exports_are_exactly_the_curated_list() -> None:
    assert sorted(genro_storage.__all__) == sorted(
        [
            "AsyncStorageManager",
            "AsyncStorageNode",
            "SkipStrategy",
            "StorageConfigError",
            "StorageError",
            "StorageManager",
            "StorageNode",
            "StorageNotFoundError",
            "StoragePermissionError",
            "__version__",
        ]
    )
    for name in genro_storage.__all__:
        assert hasattr(genro_storage, name)


def test_compat_import_paths() -> None:
    from genro_storage.backends import (  # noqa: F401
        Base64Backend,
        LocalStorage,
        RelativeMountBackend,
        StorageBackend,
    )
    from genro_storage.backends.fsspec import FsspecBackend  # noqa: F401
    from genro_storage.backends.relative import PermissionLevel  # noqa: F401
    from genro_storage.exceptions import (  # noqa: F401
        StorageConfigError,
        StorageError,
        StorageNotFoundError,
        StoragePermissionError,
    )
    from genro_storage.manager import StorageManager as M  # noqa: F401
    from genro_storage.node import SkipStrategy, StorageNode  # noqa: F401


def test_exception_hierarchy_matches_builtins() -> None:
    assert issubclass(genro_storage.StorageNotFoundError, FileNotFoundError)
    assert issubclass(genro_storage.StoragePermissionError, PermissionError)
    assert issubclass(genro_storage.StorageConfigError, ValueError)
    for cls in (
        genro_storage.StorageNotFoundError,
        genro_storage.StoragePermissionError,
        genro_storage.StorageConfigError,
    ):
        assert issubclass(cls, genro_storage.StorageError)


def test_documented_signatures() -> None:
    sig = inspect.signature(StorageManager.node)
    assert list(sig.parameters) == ["self", "mount_or_path", "path_parts", "version"]
    assert sig.parameters["version"].kind is inspect.Parameter.KEYWORD_ONLY
    copy_params = list(inspect.signature(StorageNode.copy_to).parameters)
    assert copy_params[:10] == [
        "self",
        "dest",
        "include",
        "exclude",
        "filter",
        "skip",
        "skip_fn",
        "progress",
        "on_file",
        "on_skip",
    ]
    serve = inspect.signature(StorageNode.serve)
    assert list(serve.parameters)[1:] == [
        "environ",
        "start_response",
        "download",
        "download_name",
        "cache_max_age",
    ]
    assert list(inspect.signature(StorageNode.to_base64).parameters)[1:] == ["mime", "include_uri"]
    open_params = inspect.signature(StorageNode.open).parameters
    assert list(open_params)[1:4] == ["mode", "version", "as_of"]  # 0.4.2, positional
    # builtins.open's text options, added keyword-only (issue 14)
    extra = list(open_params)[4:]
    assert extra == ["encoding", "errors", "newline", "buffering"]
    assert all(open_params[p].kind is inspect.Parameter.KEYWORD_ONLY for p in extra)


def test_skip_strategy_is_a_str_enum() -> None:
    from genro_storage import SkipStrategy

    assert SkipStrategy("size") is SkipStrategy.SIZE
    assert SkipStrategy.HASH == "hash"
    # the 0.4.2 members in their order, then 0.5.0's "mtime"
    assert [m.value for m in SkipStrategy] == ["never", "exists", "size", "hash", "custom", "mtime"]


def test_capabilities_str_and_defaults() -> None:
    assert str(BackendCapabilities()) == "basic file operations"
    caps = BackendCapabilities(versioning=True, presigned_urls=True, readonly=True)
    assert str(caps) == "versioning, presigned URLs, read-only"
    assert {BackendCapabilities(): 1}[BackendCapabilities()] == 1
    assert repr(BackendCapabilities()).startswith("BackendCapabilities(read=True")
    assert BackendCapabilities().append_mode and not BackendCapabilities().temporary


def test_package_is_typed() -> None:
    from importlib.resources import files

    assert files("genro_storage").joinpath("py.typed").is_file()


def test_old_import_paths_warn_and_give_the_moved_objects() -> None:
    """The 0.5 layout moved these (never in a release): the old paths still import the
    same objects, each name with a DeprecationWarning naming the new path."""
    from genro_storage.http.options import ServeOptions
    from genro_storage.http.signing import sign_path
    from genro_storage.serving.asgi_app import ASGIApp
    from genro_storage.serving.wsgi_app import WSGIApp, create_app

    with pytest.deprecated_call(match="import WSGIApp from genro_storage.serving.wsgi_app"):
        from genro_storage.integrations.wsgi import WSGIApp as OldWSGIApp
    with pytest.deprecated_call(match="import create_app from genro_storage.serving.wsgi"):
        from genro_storage.integrations.wsgi import create_app as old_create_app
    with pytest.deprecated_call(match="import ASGIApp from genro_storage.serving.asgi_app"):
        from genro_storage.integrations.asgi import ASGIApp as OldASGIApp
    with pytest.deprecated_call(match="genro_storage.serving.options is a deprecated"):
        from genro_storage.serving.options import ServeOptions as OldServeOptions
    with pytest.deprecated_call(match="import sign_path from genro_storage.http.signing"):
        from genro_storage.serving.signing import sign_path as old_sign_path

    assert (OldWSGIApp, OldASGIApp, old_create_app) == (WSGIApp, ASGIApp, create_app)
    assert (OldServeOptions, old_sign_path) == (ServeOptions, sign_path)
    with pytest.raises(ImportError):
        from genro_storage.integrations.wsgi import serve_node  # noqa: F401
