"""Snippet choosers for models that hold people's data or the council's sign-in set-up: open only
to those who may list them."""

from django.core.exceptions import PermissionDenied
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.snippets.views import chooser

# The snippet listing's own test (wagtail.snippets.views.snippets.IndexView).
LISTING_ACTIONS = ["add", "change", "delete", "view"]


class ListingPermissionRequired:
    """Wagtail's choosers check no permission: any admin user could read (and search) the rows
    behind them. These ask for what the snippet's listing asks for."""

    def dispatch(self, request, *args, **kwargs):
        policy = ModelPermissionPolicy(self.model_class)
        if not policy.user_has_any_permission(request.user, LISTING_ACTIONS):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ChooseView(ListingPermissionRequired, chooser.ChooseView):
    pass


class ChooseResultsView(ListingPermissionRequired, chooser.ChooseResultsView):
    pass


class ChosenView(ListingPermissionRequired, chooser.SnippetChosenView):
    pass


class ChosenMultipleView(ListingPermissionRequired, chooser.SnippetChosenMultipleView):
    pass


class ListingPermissionChooserViewSet(chooser.SnippetChooserViewSet):
    """For a SnippetViewSet's `chooser_viewset_class` when its rows name or describe people, or
    configure sign-in (identity providers)."""

    choose_view_class = ChooseView
    choose_results_view_class = ChooseResultsView
    chosen_view_class = ChosenView
    chosen_multiple_view_class = ChosenMultipleView
