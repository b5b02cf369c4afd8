"""botocore's data loader, without the scan of every service's folder, parsing plain dicts.

To load one model (``s3/2006-03-01/service-2``), botocore's ``Loader`` first lists every
service it ships (about 430 folders, an API-version folder and a file check in each:
about 2,600 ``stat`` calls) to check that the service exists, once per model type a
client loads (``service-2`` and ``endpoint-rule-set-1``): 25-30 ms of CPU in every fresh
process, before its first S3 request. :class:`ServiceLoader` asks the service's own
folder instead (``list_api_versions``: the same search paths, the same files), and lets
botocore's own code answer a service it does not find (``UnknownServiceError`` naming the
known ones); its JSON files are parsed into plain dicts (:class:`DictFileLoader`).
Registered as the session's ``data_loader`` component (botocore's hook for
it), with the session's ``data_path`` (``AWS_DATA_PATH``) as botocore's own factory uses.

One loader per ``data_path`` serves every session of the process (each S3 mount has a
session of its own, for its request-log handlers): a loader keeps what it parsed, so the
S3 model, endpoint rules and partitions are parsed once per process, not once per mount
(botocore shares a loader among the clients of one session the same way: what it returns
is only read).
"""

from __future__ import annotations

import gzip
import json
import os
from typing import Any

from botocore.exceptions import DataNotFoundError
from botocore.loaders import JSONFileLoader, Loader, instance_cache

__all__ = ["DictFileLoader", "ServiceLoader", "use_service_loader"]

_OPENERS = ((".json", open), (".json.gz", gzip.open))


class DictFileLoader(JSONFileLoader):
    """botocore's JSON file loader with plain dicts (ordered too) instead of
    ``OrderedDict``s: parsing the 1.2 MB ``endpoints.json`` takes 5 ms instead of 29,
    the S3 model 4 ms instead of 8 (nothing reads the loaded data as an OrderedDict)."""

    def load_file(self, file_path: str) -> Any:
        for ext, opener in _OPENERS:
            path = file_path + ext
            if os.path.isfile(path):
                with opener(path, "rb") as fh:
                    return json.loads(fh.read().decode("utf-8"))
        return None


class ServiceLoader(Loader):
    """A ``Loader`` whose :meth:`load_service_model` looks at one service's folder and
    whose files are parsed by :class:`DictFileLoader`."""

    FILE_LOADER_CLASS = DictFileLoader

    @instance_cache  # type: ignore[untyped-decorator]
    def load_service_model(
        self, service_name: str, type_name: str, api_version: str | None = None
    ) -> Any:
        try:
            versions = self.list_api_versions(service_name, type_name)
        except DataNotFoundError:
            versions = []
        if not versions or (api_version is not None and api_version not in versions):
            # botocore's own answer: UnknownServiceError or DataNotFoundError
            return super().load_service_model(service_name, type_name, api_version)
        version = api_version or versions[-1]  # botocore: the latest, sorted as here
        model = self.load_data(os.path.join(service_name, version, type_name))
        extras = self._find_extras(service_name, type_name, version)
        self._extras_processor.process(model, extras)
        return model


# data_path's search paths -> the process's ServiceLoader for them
_loaders: dict[tuple[str, ...], ServiceLoader] = {}


def use_service_loader(session: Any) -> None:
    """Give ``session`` (a botocore or aiobotocore session) the process's
    :class:`ServiceLoader` for its ``data_path``."""
    data_path = session.get_config_variable("data_path")
    paths = tuple(
        os.path.expanduser(os.path.expandvars(path))
        for path in (data_path.split(os.pathsep) if data_path else ())
    )
    loader = _loaders.get(paths)
    if loader is None:  # two threads may both make one: either serves
        loader = _loaders.setdefault(paths, ServiceLoader(extra_search_paths=list(paths)))
    session.register_component("data_loader", loader)
