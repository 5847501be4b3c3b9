"""The poll watchdog schedule and the poll loop's lease row.

django-q2's scheduler looks at schedules about every 30 s, so a schedule alone cannot poll every
few seconds: the schedule (every minute) only restarts the poll loop (generation.tasks.video_poll_loop)
when it is not running; the loop itself sweeps due attempts every VIDEO_POLL_TICK seconds while any
attempt is in flight, and stops when none is.
"""

from django.db import migrations

NAME = "generation: poll watchdog"


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={"func": "generation.tasks.video_poll_watchdog", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )
    apps.get_model("generation", "EngineLease").objects.get_or_create(name="poller")


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("generation", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(create, remove)]
