from django.urls import path

from kitchen import apis

urlpatterns = [
    path("auth/token/", apis.TokenApi.as_view(), name="auth-token"),
    path("kitchen/orders/", apis.KitchenOrdersApi.as_view(), name="kitchen-orders"),
    path("orders/<str:order_id>/kitchen-status/", apis.KitchenStatusApi.as_view(), name="kitchen-status"),
    path("tables/<str:table_id>/call-staff/", apis.CallStaffApi.as_view(), name="call-staff"),
    path("staff-calls/", apis.StaffCallListApi.as_view(), name="staff-calls"),
    path("staff-calls/<str:call_id>/ack/", apis.StaffCallAckApi.as_view(), name="staff-call-ack"),
]
