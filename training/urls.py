from django.urls import path

from training import views

app_name = "training"

urlpatterns = [
    path("my-training/", views.my_training, name="my_training"),
    path("my-team/", views.my_team, name="my_team"),
    path("my-team/<int:assignment_id>/nudge/", views.team_nudge, name="team_nudge"),
    path("my-team/<int:assignment_id>/extend/", views.team_extend, name="team_extend"),
    path(
        "my-team/<int:assignment_id>/exemption/",
        views.team_exemption_request,
        name="team_exemption_request",
    ),
    path("certificates/<int:pk>.pdf", views.certificate_download, name="certificate_pdf"),
    path("verify/", views.certificate_verify, name="certificate_verify_form"),
    path("verify/<str:code>/", views.certificate_verify, name="certificate_verify"),
]
