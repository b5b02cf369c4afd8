"""httpx for the tests' servers, which speak plain HTTP on 127.0.0.1.

httpx makes a TLS context for every client, ``httpx.get()`` included, and loads the CA
bundle into it: about 20 ms of CPU each time, 4 % of the test workers' samples under
py-spy. The clients made here share one context, the one httpx would make, made once per
process.
"""

from __future__ import annotations

from typing import Any

import httpx

TLS = httpx.create_ssl_context()


def client(**kwargs: Any) -> httpx.Client:
    return httpx.Client(verify=TLS, **kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, verify=TLS, **kwargs)


def put(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.put(url, verify=TLS, **kwargs)
