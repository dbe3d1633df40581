from rest_framework.negotiation import BaseContentNegotiation


class FirstRenderer(BaseContentNegotiation):
    """For a view that answers in one format whatever the client accepts: a CSV file (JSON for its errors), or
    the payment webhook, whose sender does not retry a 406. DRF's documented custom negotiation."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
