from django.urls import path

from ordering import apis

urlpatterns = [
    path("foods/", apis.FoodListApi.as_view(), name="food-list"),
    path("foods/<str:food_id>/", apis.FoodDetailApi.as_view(), name="food-detail"),
    path("tables/", apis.TableListApi.as_view(), name="table-list"),
    path("tables/create/", apis.TableCreateApi.as_view(), name="table-create"),
    path("tables/<str:table_id>/", apis.TableDetailApi.as_view(), name="table-detail"),
    path("tables/<str:table_id>/orders/", apis.TableOrdersApi.as_view(), name="table-orders"),
    path("tables/<str:table_id>/orders/reset/", apis.TableResetApi.as_view(), name="table-reset"),
    path("tables/<str:table_id>/cart/", apis.TableCartApi.as_view(), name="table-cart"),
    path("tables/<str:table_id>/open/", apis.TableOpenApi.as_view(), name="table-open"),
    path("tables/<str:table_id>/close/", apis.TableCloseApi.as_view(), name="table-close"),
    path("orders/", apis.OrderCreateApi.as_view(), name="order-create"),
    path("orders/history/", apis.OrderHistoryApi.as_view(), name="order-history"),
]
