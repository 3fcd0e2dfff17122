from django.urls import path

from demo import views

app_name = "demo"

urlpatterns = [
    path("", views.home, name="home"),
    path("collections/<slug:collection_id>/", views.collection, name="collection"),
    path("products/<slug:product_id>/", views.product, name="product"),
    path("cart/", views.cart, name="cart"),
    path("cart/add/", views.cart_add_view, name="cart-add"),
    path("checkout/", views.checkout, name="checkout"),
    path("orders/<slug:order_id>/", views.order, name="order"),
]
