"""Kept import path (docs): URL signing lives in :mod:`genro_storage.http.signing`."""

from ..http.signing import EXPIRES_PARAM, SIGNATURE_PARAM, canonical_path, sign_path, verify

__all__ = ["EXPIRES_PARAM", "SIGNATURE_PARAM", "canonical_path", "sign_path", "verify"]
