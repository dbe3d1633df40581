from django.contrib.auth import views as auth_views
from django.urls import path

from kitchen import views

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("t/<str:table_id>/", views.table_page, name="table-page"),
    path(
        "t/sw.js",
        views.offline_worker,
        {"cache": "table-tab", "page_pattern": r"^/t/[0-9A-Fa-f-]{36}/$"},
        name="table-worker",
    ),
    path("kitchen/", views.kitchen_page, name="kitchen-page"),
    path(
        "kitchen/sw.js",
        views.offline_worker,
        {"cache": "kitchen-board", "page_pattern": r"^/kitchen/$"},
        name="kitchen-worker",
    ),
    path("staff/menu/", views.staff_menu_page, name="staff-menu-page"),
    path("staff/tables/", views.staff_tables_page, name="staff-tables-page"),
    path("staff/dashboard/", views.staff_dashboard_page, name="staff-dashboard-page"),
]
