"""Refuse NUL characters in query strings, before any view reads them.

Every search, filter, sort and page parameter ends up in a query, and PostgreSQL refuses NUL in
text (DataError, a 500). Checked once here for all of them rather than in each view. Form and
JSON bodies are checked by the fields that read them (Django's and DRF's CharField refuse NUL;
JSON goes through prm.common.json_input).
"""

from django.http import HttpResponseBadRequest, JsonResponse

MESSAGE = "The address contains a NUL character (%00), which no parameter accepts."


class RejectNulInQueryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "%00" in request.META.get("QUERY_STRING", "") or _has_nul(request.GET):
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": MESSAGE, "code": "invalid"}, status=400)
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _has_nul(query) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in query.lists())
