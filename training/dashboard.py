"""The admin dashboard's content review panel: what the weekly digest lists, for editors."""

from django.conf import settings
from wagtail.admin.ui.components import Component

from training.selectors import content_review_list


class ContentReviewPanel(Component):
    """Modules past their review-by date, reporting routes not verified lately, lessons whose
    sources were last checked over a year ago (training.selectors.content_review_list)."""

    name = "content_review"
    template_name = "training/admin/content_review_panel.html"
    order = 90  # above Wagtail's own panels: it asks for action

    def get_context_data(self, parent_context=None):
        context = super().get_context_data(parent_context)
        context["review"] = content_review_list()
        context["verify_months"] = settings.AWARE_ROUTE_VERIFY_MONTHS
        return context
