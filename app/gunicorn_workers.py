"""gunicorn's sync and gthread workers, except that every request gunicorn itself refuses gets a 4xx.

gunicorn answers 501 to a Transfer-Encoding it does not know (RFC 9112 says SHOULD), and 500 to a SCRIPT_NAME
header that the path does not start with (a header it takes from a trusted proxy address, 127.0.0.1 by
default). Both are the request's fault, not the server's: 400, like gunicorn's other refusals, so that no
input at all makes web answer 5xx (tests/integration/test_fuzz.py).
"""
from gunicorn.http.errors import ConfigurationProblem, InvalidHeader, UnsupportedTransferCoding
from gunicorn.workers.gthread import ThreadWorker as _ThreadWorker
from gunicorn.workers.sync import SyncWorker as _SyncWorker


class _RefusalsAreClientErrors:
    def handle_error(self, req, client, addr, exc):
        if isinstance(exc, UnsupportedTransferCoding):
            exc = InvalidHeader("TRANSFER-ENCODING", req=req)
        elif isinstance(exc, ConfigurationProblem):
            exc = InvalidHeader("SCRIPT_NAME", req=req)
        super().handle_error(req, client, addr, exc)


class SyncWorker(_RefusalsAreClientErrors, _SyncWorker):
    pass


class ThreadWorker(_RefusalsAreClientErrors, _ThreadWorker):
    pass
