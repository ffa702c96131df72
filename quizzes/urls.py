"""Learners' quiz pages, under /quizzes/."""

from django.urls import path

from quizzes import views

app_name = "quizzes"

urlpatterns = [
    path("<int:quiz_id>/", views.quiz_start_page, name="start"),
    path("<int:quiz_id>/start/", views.attempt_start_view, name="attempt_start"),
    path("attempts/<int:attempt_id>/", views.attempt_page, name="attempt"),
    path("attempts/<int:attempt_id>/result/", views.attempt_result_page, name="result"),
    path(
        "team/<int:assignment_id>/another-attempt/",
        views.team_attempt_grant,
        name="team_attempt_grant",
    ),
]
