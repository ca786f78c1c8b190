"""The floor for the ingest benchmark: read the body, verify Slack's signature, answer 200.

Same decorators, same middleware and the same verifier (app.bot.signing.is_signed_by_slack) as
/slack/events, so the difference between the two is exactly what /slack/events does after the
signature check: parse the JSON and hand the delivery to the broker.
"""
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from app.bot.signing import is_signed_by_slack


@csrf_exempt
@require_POST
def floor(request):
    if not is_signed_by_slack(request.body, request.headers):
        return JsonResponse({"ok": False, "error": "invalid_signature"}, status=401)
    return HttpResponse(status=200)
