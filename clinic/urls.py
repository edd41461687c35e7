from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from clinic import health
from reports.views import reports_page
from treatments.views import calendar_feed
from workspace import answers

urlpatterns = [
    path("admin/reports/", admin.site.admin_view(reports_page), name="reports"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("clinic.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script, for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("healthz/", health.healthz, name="healthz"),
    path("readyz/", health.readyz, name="readyz"),
    path("calendar/<str:secret>.ics", calendar_feed, name="calendar-feed"),
    # The patient's page behind a reminder's link (kept short: it goes out in text messages).
    path("answer/<str:token>/", answers.answer_page, name="reminder-answer"),
    # The patients' questionnaire pages (/q/<link>/...), reached from an invitation's link.
    path("", include("questionnaires.urls")),
    # The staff's screens: "/" is each person's start (clinic admins land in the admin).
    path("", include("workspace.urls")),
]

handler404 = "clinic.views.not_found"
handler500 = "clinic.views.server_error"
