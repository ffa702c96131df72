"""Admin menu items every app uses: one shown only to people holding any of some permissions."""

from wagtail.admin.menu import MenuItem


class PermittedMenuItem(MenuItem):
    """A menu item shown only to people holding any of the given permissions."""

    def __init__(self, *args, permissions: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.permissions = permissions

    def is_shown(self, request):
        return any(request.user.has_perm(p) for p in self.permissions)
