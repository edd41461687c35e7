from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from workspace import views

app_name = "workspace"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="workspace:login"), name="logout"),
    path("today/", views.today, name="today"),
    path("patients/", views.patient_search, name="search"),
    path("patients/<int:patient_id>/", views.chart, name="chart"),
]
