"""The schedule every treatment starts with (baseline, 6 weeks, 3, 6, 12 and 24 months after the
first injection; the clinic admin changes it in the admin) and the questionnaires shipped with
the clinic: NPRS, a global rating of change, KOOS and HOOS (questionnaires/data/)."""

from django.db import migrations

TREATMENTS = ("prp", "dextrose", "exosome", "prp_dextrose", "prp_exosome", "other")
POINTS = (("baseline", 0), ("6w", 42), ("3m", 91), ("6m", 182), ("12m", 365), ("24m", 730))


def forwards(apps, schema_editor):
    from questionnaires.loading import questionnaire_load, shipped_definitions

    SchedulePoint = apps.get_model("questionnaires", "SchedulePoint")
    for treatment in TREATMENTS:
        for time_point, days in POINTS:
            SchedulePoint.objects.get_or_create(
                treatment=treatment, time_point=time_point, defaults={"days_after": days}
            )
    for data in shipped_definitions():
        questionnaire_load(data=data, apps=apps)


def backwards(apps, schema_editor):
    apps.get_model("questionnaires", "SchedulePoint").objects.all().delete()
    apps.get_model("questionnaires", "Questionnaire").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("questionnaires", "0002_invitations_planned_by_the_database")]

    operations = [migrations.RunPython(forwards, backwards)]
