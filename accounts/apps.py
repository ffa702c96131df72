from django.apps import AppConfig
from wagtail.users.apps import WagtailUsersAppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People"


class AwareUsersAppConfig(WagtailUsersAppConfig):
    """Wagtail's user admin, with forms for Aware's own user fields."""

    user_viewset = "accounts.viewsets.UserViewSet"
