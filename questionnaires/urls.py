"""The patient's pages under /q/ (the link's secret is the next part of the path), and the
chart panel's review of a new problem."""

from __future__ import annotations

from django.urls import path

from questionnaires import views

app_name = "questionnaires"
urlpatterns = [
    path("q/done/", views.done, name="done"),
    path("q/<str:token>/", views.start, name="start"),
    path("q/<str:token>/<int:number>/", views.step, name="step"),
    path("q/<str:token>/problem/", views.problem, name="problem"),
    path("q/<str:token>/finish/", views.finish, name="finish"),
    path(
        "questionnaires/problems/<int:report_id>/reviewed/",
        views.problem_reviewed,
        name="problem-reviewed",
    ),
]
