"""Wagtail's user admin, using Aware's user fields instead of first and last name, and showing
each role only the people it may see (accounts.selectors.people_visible_to)."""

from django.http import Http404
from django.utils.functional import cached_property
from wagtail.admin.views.generic.usage import UsageView as WagtailUsageView
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.users.views import users

from accounts.forms import WagtailUserCreationForm, WagtailUserEditForm
from accounts.selectors import COUNCILLORS_PERMISSION, people_visible_to
from accounts.views import person_privacy_buttons


class PeoplePermissionPolicy(ModelPermissionPolicy):
    """Django's model permissions, plus: "view_councillor" (Member Services) opens the people
    listing, which then holds councillors only."""

    def user_has_permission(self, user, action):
        if action == "view" and user.has_perm(COUNCILLORS_PERMISSION):
            return True
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


class VisiblePersonMixin:
    """A person the viewer may not see is not there (404), whatever else the view checks."""

    def get_object(self, *args, **kwargs):
        person = super().get_object(*args, **kwargs)
        if not people_visible_to(viewer=self.request.user).filter(pk=person.pk).exists():
            raise Http404("No such person.")
        return person


class IndexView(users.IndexView):
    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .filter(pk__in=people_visible_to(viewer=self.request.user).values("pk"))
        )


class EditView(VisiblePersonMixin, users.EditView):
    @cached_property
    def header_more_buttons(self):
        return [
            *super().header_more_buttons,
            *person_privacy_buttons(person=self.object, viewer=self.request.user),
        ]


class DeleteView(VisiblePersonMixin, users.DeleteView):
    pass


class HistoryView(VisiblePersonMixin, users.HistoryView):
    pass


class UsageView(VisiblePersonMixin, WagtailUsageView):
    pass


class UserViewSet(users.UserViewSet):
    create_template_name = "accounts/wagtail_users/create.html"
    edit_template_name = "accounts/wagtail_users/edit.html"
    index_view_class = IndexView
    edit_view_class = EditView
    delete_view_class = DeleteView
    history_view_class = HistoryView
    usage_view_class = UsageView

    @cached_property
    def permission_policy(self):
        return PeoplePermissionPolicy(self.model)

    def get_form_class(self, for_update=False):
        return WagtailUserEditForm if for_update else WagtailUserCreationForm
