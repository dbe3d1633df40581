from django.urls import path

from payments import apis

urlpatterns = [
    path("orders/pre-order/<str:table_id>/", apis.PreOrderCreateApi.as_view(), name="pre-order"),
    path("orders/<str:order_id>/payment-status/", apis.PaymentStatusApi.as_view(), name="payment-status"),
    path("orders/<str:order_id>/confirm-payment/", apis.ConfirmPaymentApi.as_view(), name="confirm-payment"),
    path("orders/<str:order_id>/refunds/", apis.RefundCreateApi.as_view(), name="order-refunds"),
    path("webhook/payment/", apis.PaymentWebhookApi.as_view(), name="payment-webhook"),
    path("payments/", apis.PaymentListApi.as_view(), name="payment-list"),
    path("payments/<str:event_id>/match/", apis.PaymentMatchApi.as_view(), name="payment-match"),
    path("payments/<str:event_id>/resolve/", apis.PaymentResolveApi.as_view(), name="payment-resolve"),
    path("reports/night/", apis.NightReportApi.as_view(), name="night-report"),
    path("reports/night.csv", apis.NightReportCsvApi.as_view(), name="night-report-csv"),
]
