"""The reminder sweep's beat schedule, which follows HR's reminder settings."""

from django.conf import settings
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from training.reminders.planning import reminder_settings


def reminder_schedule_apply() -> None:
    """Point the sweep's beat schedule (settings.AWARE_REMINDER_SWEEP_SCHEDULE, declared beside
    every other) at the time and days in the reminder settings."""
    rules = reminder_settings()
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=str(rules.send_time.minute),
        hour=str(rules.send_time.hour),
        day_of_week=rules.send_days,
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    schedule = settings.AWARE_REMINDER_SWEEP_SCHEDULE
    PeriodicTask.objects.update_or_create(
        name=schedule["name"],
        defaults={
            "task": schedule["task"],
            "crontab": crontab,
            "interval": None,
            "enabled": True,
        },
    )
