from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from app.ops import health


@require_GET
def healthz(request):
    return HttpResponse("ok\n", content_type="text/plain")


@require_GET
def readyz(request):
    database, broker = health.database_check(), health.broker_check()
    body = {
        "database": {"ok": database.ok, "ms": round(database.millis, 1), "error": database.detail},
        "broker": {"ok": broker.ok, "ms": round(broker.millis, 1), "error": broker.detail},
    }
    return JsonResponse(body, status=200 if database.ok and broker.ok else 503)
