"""botocore's data loader without the scan of every service's folder (``_botoload``), and
the S3 backend's declared start-up and batch settings (no server needed)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import DataNotFoundError, UnknownServiceError
from botocore.loaders import Loader

from genro_storage.backends._botoload import ServiceLoader
from genro_storage.backends.s3 import s3_session


def _no_scan(loader: Loader) -> Loader:
    def scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("every service's folder was listed")

    loader.list_available_services = scan  # type: ignore[method-assign]
    return loader


@pytest.mark.parametrize("type_name", ["service-2", "endpoint-rule-set-1", "paginators-1"])
def test_the_models_are_botocores_own(type_name: str) -> None:
    ours = _no_scan(ServiceLoader()).load_service_model("s3", type_name)
    assert ours == Loader().load_service_model("s3", type_name)


@pytest.mark.parametrize("name", ["endpoints", "partitions", "_retry", "sdk-default-configuration"])
def test_the_data_files_are_botocores_own_in_plain_dicts(name: str) -> None:
    ours = ServiceLoader().load_data(name)
    assert type(ours) is dict
    assert ours == Loader().load_data(name)
    assert list(ours) == list(Loader().load_data(name))  # in the file's order


def test_a_missing_file_is_none() -> None:
    assert ServiceLoader().file_loader.load_file("/no/such/file") is None


def test_an_api_version_named_is_loaded() -> None:
    version = Loader().determine_latest_version("s3", "service-2")
    model = _no_scan(ServiceLoader()).load_service_model("s3", "service-2", version)
    assert model["metadata"]["apiVersion"] == version


def test_unknown_services_and_versions_get_botocores_errors() -> None:
    with pytest.raises(UnknownServiceError, match="no-such-service"):
        ServiceLoader().load_service_model("no-such-service", "service-2")
    with pytest.raises(DataNotFoundError):
        ServiceLoader().load_service_model("s3", "service-2", "1999-01-01")


def test_an_s3_mounts_session_uses_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    loader = s3_session("m").get_component("data_loader")
    assert isinstance(loader, ServiceLoader)
    assert str(tmp_path) in loader.search_paths  # botocore's AWS_DATA_PATH kept


def test_every_s3_session_shares_the_loader_of_its_data_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Parsed once per process: the sessions of two mounts get the same loader (their
    event handlers stay their own); another AWS_DATA_PATH gets a loader of its own."""
    one, two = s3_session("one"), s3_session("two")
    assert one.get_component("data_loader") is two.get_component("data_loader")
    assert one.get_component("event_emitter") is not two.get_component("event_emitter")
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    other = s3_session("other").get_component("data_loader")
    assert other is not one.get_component("data_loader")
    assert other is s3_session("again").get_component("data_loader")


def test_a_relative_mount_keeps_the_s3_files_in_flight() -> None:
    """``batch_in_flight`` is declared by the S3 backend and forwarded by relative mounts
    (a readonly view of a bucket downloads with as many files in flight)."""
    from genro_storage.backends.base import StorageBackend
    from genro_storage.backends.relative import RelativeMountBackend
    from genro_storage.backends.s3 import create

    s3 = create({"bucket": "b", "endpoint_url": "http://127.0.0.1:9"}, "m")
    assert s3.batch_in_flight == 64
    assert RelativeMountBackend(s3, "sub", "readonly", "view").batch_in_flight == 64
    assert StorageBackend.batch_in_flight is None
