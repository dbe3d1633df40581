from django.http import JsonResponse

from config.exceptions import KOREAN_DETAIL, error_body


class JsonErrorsMiddleware:
    """API paths answer errors in the contract's JSON body, even with DEBUG on.

    Errors raised in DRF views are already JSON (config.exceptions); this catches what happens outside
    them: Django's own 404/405/500 pages and anything that escaped a view.

    It is sync-only and the innermost middleware, so Django runs the whole stack in sync mode in the
    request's thread (every view here is sync) instead of hopping between the event loop and the thread
    around each middleware.
    """

    API_PREFIXES = ("/api/", "/healthz")
    API_PATHS = ("/api",)
    STATUS_CODES = {
        400: "bad_request",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        500: "server_error",
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and (request.path.startswith(self.API_PREFIXES) or request.path in self.API_PATHS)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            # A DRF view's own error, rendered by the view's renderer (the schema's YAML), keeps its code.
            body = getattr(response, "data", None)
            if not (isinstance(body, dict) and isinstance(body.get("code"), str) and "detail" in body):
                code = self.STATUS_CODES.get(response.status_code) or (
                    "server_error" if response.status_code >= 500 else "error"
                )
                body = error_body(code, KOREAN_DETAIL[code])
            answer = JsonResponse(body, status=response.status_code, json_dumps_params={"ensure_ascii": False})
            for header in ("WWW-Authenticate", "Retry-After"):
                if header in response:
                    answer[header] = response[header]
            return answer
        return response
