from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from workspace import chase, views
from workspace.clinician import chart, sessions
from workspace.desk import views as desk

app_name = "workspace"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="workspace:login"), name="logout"),
    path("today/", views.today, name="today"),
    path("patients/", views.patient_search, name="search"),
    # The clinician's screens (workspace/clinician/)
    path("patients/<int:patient_id>/", chart.chart, name="chart"),
    path("patients/<int:patient_id>/scores/", chart.score_record, name="score-add"),
    path("patients/<int:patient_id>/sessions/new/", sessions.session_new, name="session-new"),
    path(
        "patients/<int:patient_id>/sessions/check/",
        sessions.session_check,
        name="session-check",
    ),
    path("sessions/<int:session_id>/", sessions.session_page, name="session"),
    path("sessions/<int:session_id>/edit/", sessions.session_edit, name="session-edit"),
    path("sessions/<int:session_id>/sign/", sessions.session_sign, name="session-sign"),
    path("sessions/<int:session_id>/cancel/", sessions.session_cancel, name="session-cancel"),
    path("sessions/<int:session_id>/addenda/", sessions.addendum_add, name="addendum-add"),
    path("gs1/", sessions.gs1_read, name="gs1"),
    # The front desk's screens (workspace/desk/)
    path("desk/", desk.day, name="desk"),
    path("desk/week/", desk.week, name="desk-week"),
    path("desk/book/", desk.book, name="desk-book"),
    path("desk/patients/", desk.patient_options, name="desk-patients"),
    path("desk/patients/new/", desk.register, name="desk-register"),
    path("desk/follow-ups/<int:pk>/", desk.follow_up_detail, name="desk-follow-up"),
    path("desk/follow-ups/<int:pk>/move/", desk.follow_up_move, name="desk-move"),
    path("desk/follow-ups/<int:pk>/status/", desk.follow_up_status, name="desk-status"),
    path("desk/waitlist/", desk.waitlist, name="desk-waitlist"),
    path("desk/waitlist/<int:pk>/book/", desk.waitlist_book, name="desk-waitlist-book"),
    path("desk/waitlist/<int:pk>/withdraw/", desk.waitlist_withdraw, name="desk-waitlist-withdraw"),
    path("desk/clinicians/", desk.clinicians_choice, name="desk-clinicians"),
    # Questionnaires: the list of patients to call, and the tablet at check-in
    path("questionnaires/chase/", chase.chase_list, name="chase"),
    path("questionnaires/<int:invitation_id>/call/", chase.call_record, name="chase-call"),
    path("questionnaires/<int:invitation_id>/tablet/", chase.kiosk_start, name="chase-tablet"),
]
