from django.apps import AppConfig
from wagtail.users.apps import WagtailUsersAppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People"
    default = True  # apps.py holds two configs: this one is accounts'

    def ready(self):
        """Any change of who holds which role or permission clears the cached roles; any change
        of a line manager, the cached answer to "does anyone report to them?"."""
        from django.contrib.auth.models import Group, Permission
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from accounts.models import User
        from accounts.selectors import managers_cache_clear, roles_cache_clear

        def cleared(**kwargs):
            roles_cache_clear()

        self._roles_receiver = cleared  # signals hold receivers weakly
        for through in (
            User.groups.through,
            User.user_permissions.through,
            Group.permissions.through,
        ):
            m2m_changed.connect(cleared, sender=through, dispatch_uid=f"aware-roles-{through}")
        for model in (Group, Permission):
            for signal in (post_save, post_delete):
                signal.connect(
                    cleared, sender=model, dispatch_uid=f"aware-roles-{model.__name__}-{signal}"
                )

        def managers_cleared(update_fields=None, **kwargs):
            # A sign-in saves last_login only: that changes nobody's manager.
            if update_fields is None or {"line_manager", "is_active"} & set(update_fields):
                managers_cache_clear()

        self._managers_receiver = managers_cleared
        for signal in (post_save, post_delete):
            signal.connect(managers_cleared, sender=User, dispatch_uid=f"aware-managers-{signal}")


class AwareUsersAppConfig(WagtailUsersAppConfig):
    """Wagtail's user admin, with forms for Aware's own user fields."""

    user_viewset = "accounts.viewsets.UserViewSet"
