import logging

from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from app.ops import health

log = logging.getLogger(__name__)


@require_GET
def healthz(request):
    return HttpResponse("ok\n", content_type="text/plain")


@require_GET
def readyz(request):
    """Which service is down, never where it lives: /readyz is public, and a driver's error names the host
    and port. The error itself goes to the log (and `manage.py doctor` prints it)."""
    checks = {"database": health.database_check(), "broker": health.broker_check()}
    down = [name for name, check in checks.items() if not check.ok]
    for name in down:
        log.warning("readyz: the %s is down: %s", name, checks[name].detail)
    body = {name: {"ok": check.ok, "ms": round(check.millis, 1)} for name, check in checks.items()}
    return JsonResponse({"down": down, **body}, status=503 if down else 200)
