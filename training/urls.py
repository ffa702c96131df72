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
    path("toolbox/", views.toolbox_start, name="toolbox_start"),
    path("toolbox/<str:token>/", views.toolbox_talk, name="toolbox_talk"),
    path("toolbox/<str:token>/present/", views.toolbox_present, name="toolbox_present"),
    path("toolbox/<str:token>/close/", views.toolbox_close, name="toolbox_close"),
    path("toolbox/<str:token>/check/", views.toolbox_check, name="toolbox_check"),
    path(
        "toolbox/<str:token>/check/<int:person_id>/",
        views.toolbox_check,
        name="toolbox_check_for",
    ),
    path("certificates/<int:pk>.pdf", views.certificate_download, name="certificate_pdf"),
    path("verify/", views.certificate_verify, name="certificate_verify_form"),
    path("verify/<str:code>/", views.certificate_verify, name="certificate_verify"),
]
