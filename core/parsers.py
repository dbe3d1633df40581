from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with nesting deeper than the interpreter's stack read as unreadable JSON (400)
    rather than a server error: DRF turns only ValueError into ParseError."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON 본문이 너무 깊게 중첩되어 있습니다.") from None
