from rest_framework.negotiation import BaseContentNegotiation


class FirstRenderer(BaseContentNegotiation):
    """For a view that answers in one format of its own (a CSV file) and in JSON for its errors: the client's
    `Accept` (`text/csv`, say) is not refused with 406. DRF's documented custom negotiation."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
