"""SMB/CIFS shares through fsspec's ``smb`` driver (smbprotocol).

Writes go to a temporary file next to the target and replace it when complete (one
rename, so readers see the old or the new file, never a partial one).
smbprotocol keeps one connection per server and user for the whole process.
"""

from __future__ import annotations

from typing import Any

from ..capabilities import BackendCapabilities
from ..errors import StorageConnectionError, StorageNotFoundError
from ._errors import chain_text
from .fsspec import FsspecBackend

__all__ = ["SMBBackend", "create"]


class SMBBackend(FsspecBackend):
    """A share, or a directory inside it (``path``)."""

    default_capabilities = BackendCapabilities()  # atomic: temp file + replace
    block_size = 1024 * 1024

    def __init__(self, fs: Any, host: str, share: str, path: str, mount_name: str) -> None:
        sub = path.strip("/")
        super().__init__(fs, f"/{share}/{sub}" if sub else f"/{share}", "smb", mount_name)
        self.host = host
        self.share = share

    def _replace(self, temp: str, full: str) -> None:
        """Rename ``temp`` over ``full`` in one SMB2 SET_INFO (FileRenameInformation).

        Not ``smbclient.replace``: it first opens the destination asking for
        FILE_EXECUTE, which Samba refuses on files without an x bit (ACCESS_DENIED).
        """
        from fsspec.implementations.smb import _as_unc_path
        from smbclient._io import SMBFileTransaction, SMBRawIO, set_info
        from smbprotocol.file_info import FileRenameInformation
        from smbprotocol.open import CreateOptions, FilePipePrinterAccessMask

        source = SMBRawIO(
            _as_unc_path(self.host, temp),
            mode="r",
            share_access="rwd",
            desired_access=FilePipePrinterAccessMask.DELETE,
            create_options=CreateOptions.FILE_OPEN_REPARSE_POINT,
            port=self.fs._port,
        )
        with source, SMBFileTransaction(source) as transaction:
            rename = FileRenameInformation()
            rename["replace_if_exists"] = True
            rename["file_name"] = full.strip("/").split("/", 1)[1].replace("/", "\\")
            set_info(transaction, rename)

    def translate_error(self, exc: BaseException, path: str) -> BaseException | None:
        text = str(exc)
        if isinstance(exc, ValueError) and "Failed to connect" in text:
            return StorageConnectionError(f"{self.describe()}: cannot reach the server ({text})")
        # the driver reports a plain "not found" whose cause is the tree connect's refusal
        if "BAD_NETWORK_NAME" in chain_text(exc):
            return StorageNotFoundError(f"{self.describe()}: share '{self.share}' does not exist")
        return None


#: the credits a connection keeps: a request of 1 MiB spends 16, so 32 of them at once
CREDITS = 512


def tune_connection(host: str, options: dict[str, Any]) -> None:
    """Ask the server for :data:`CREDITS` credits on the connection of ``options``, and
    make its requests wait for credits (:func:`wait_for_credits`).

    A request spends credits and asks for as many back, so the window stays what the
    session began with: Samba grants 64. smbprotocol refuses a request when they are
    spent instead of waiting ("Request requires 1 credits but only 0 credits are
    available"): four files of 4 MiB copied at once failed three of them. One ECHO asking
    for more makes the window larger for as long as the connection lives (smbprotocol's
    documented way); connections are shared by the whole process, so only what is
    missing is asked.
    """
    import smbclient

    session = smbclient.register_session(  # the cached session SMBFileSystem made
        host,
        username=options.get("username"),
        password=options.get("password"),
        port=options.get("port", 445),
    )
    connection = session.connection
    window = connection.sequence_window
    missing = CREDITS - (window["high"] - window["low"])
    if missing > 0 and connection.supports_multi_credit:
        connection.echo(sid=session.session_id, credit_request=missing)
    if not getattr(connection, "_genro_waits_for_credits", False):
        wait_for_credits(connection)


def wait_for_credits(connection: Any, timeout: float = 60.0) -> None:
    """Make ``connection`` wait for credits to come back instead of refusing a request.

    Credits return with the answers to the requests in flight, so a request that finds
    too few waits for them (up to ``timeout`` seconds). smbprotocol checks the credits
    before it sends or counts anything, so a single request refused there is safe to send
    again; a compound one (several requests in one) is sent once it fits, never retried.
    """
    import time

    from smbprotocol.exceptions import SMBException

    send = connection._send

    def waiting_send(messages: Any, *args: Any, **kwargs: Any) -> Any:
        needed = sum(max(1, connection._calculate_credit_charge(m)) for m in messages)
        deadline = time.monotonic() + timeout
        while True:
            with connection.sequence_lock:
                window = connection.sequence_window
                enough = window["high"] - window["low"] >= needed
            if enough or time.monotonic() > deadline:
                try:
                    return send(messages, *args, **kwargs)
                except SMBException as exc:
                    refused = "credits are available" in str(exc)
                    if not refused or len(messages) > 1 or time.monotonic() > deadline:
                        raise
            time.sleep(0.002)

    connection._send = waiting_send
    connection._genro_waits_for_credits = True


def create(config: dict[str, Any], mount_name: str) -> SMBBackend:
    from fsspec.implementations.smb import SMBFileSystem

    options: dict[str, Any] = {"skip_instance_cache": True, "register_session_retries": 0}
    for name in ("username", "password", "port"):
        if config.get(name) is not None:
            options[name] = config[name]
    if config.get("domain") and config.get("username"):
        options["username"] = f"{config['domain']}\\{config['username']}"
    host = str(config["host"])

    def connect() -> Any:
        fs = SMBFileSystem(host, **options)
        tune_connection(host, options)
        return fs

    return SMBBackend(
        connect, host, str(config["share"]).strip("/"), str(config.get("path") or ""), mount_name
    )
