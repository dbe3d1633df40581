"""/api/docs/ and /api/redoc/ work with no internet: the browser may reach the app and nothing else."""

import pytest
from playwright.sync_api import expect


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_api_docs_draw_their_operations_offline(browser, server, path):
    context = browser.new_context(locale="ko-KR")
    outside: list[str] = []

    def only_the_app(route):
        if route.request.url.startswith(server.url):
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    context.route("**/*", only_the_app)
    page = context.new_page()
    try:
        page.goto(server.url + path)
        # Swagger UI draws each operation as an opblock; ReDoc as a section anchored operation/<id>.
        selector = ".opblock" if path == "/api/docs/" else "[id^='operation/']"
        expect(page.locator(selector).first).to_be_visible(timeout=15_000)
        assert page.locator(selector).count() > 10
        # ReDoc's "powered by" footer draws Redocly's logo from their CDN; nothing the reader needs.
        assert [url for url in outside if url != "https://cdn.redoc.ly/redoc/logo-mini.svg"] == []
    finally:
        context.close()
