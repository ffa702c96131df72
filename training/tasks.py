"""Celery tasks for training (thin: each calls one service)."""

from celery import shared_task

from training.services import assignments_sync


@shared_task
def assignments_sync_task(user_ids: list[int] | None = None) -> dict:
    """Nightly (beat) and after imports: bring open assignments in line with the rules."""
    result = assignments_sync(user_ids=user_ids)
    return {"created": result.created, "closed": result.closed}


@shared_task
def report_export_build_task(export_id: int) -> None:
    """Build a large report export's file (progress saved as it goes)."""
    from training.report_services import report_export_build

    report_export_build(export_id=export_id)


@shared_task
def hr_pack_send_task() -> bool:
    """Monthly (beat): email the HR pack to the HR mailbox."""
    from training.report_services import hr_pack_send

    return hr_pack_send()
