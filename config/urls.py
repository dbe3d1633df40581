from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core.health import HealthApi

# The admin's own titles, in Korean like the rest of it (CONTRACT.md section 7).
admin.site.site_header = admin.site.site_title = "축제 주점 관리"
admin.site.index_title = "관리 메뉴"

urlpatterns = [
    path("api/", include("ordering.urls")),
    path("api/", include("kitchen.urls")),
    path("api/", include("payments.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html"), name="redoc"),
    path("healthz", HealthApi.as_view(), name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("kitchen.page_urls")),
]

handler400 = "config.exceptions.handler400"
handler403 = "config.exceptions.handler403"
handler404 = "config.exceptions.handler404"
handler500 = "config.exceptions.handler500"
