"""Run the reminder sweep now, in this process: `--dry-run` prints the plan and sends nothing."""

from django.core.management.base import BaseCommand

from training.reminders.planning import escalation_mailboxes_missing
from training.reminders.sending import reminders_sweep


class Command(BaseCommand):
    help = "Send today's reminder digests (or, with --dry-run, list what would be sent)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, dry_run: bool, **options):
        result = reminders_sweep(dry_run=dry_run, send_now=not dry_run)
        for message in result.planned:
            what = ", ".join(f"{i.assignment.module.title} ({i.reason})" for i in message.items)
            self.stdout.write(f"{message.kind} to {message.email}: {what or 'weekly figures'}")
        for mailbox in escalation_mailboxes_missing():
            self.stdout.write(
                self.style.WARNING(
                    f"Warning: the {mailbox} mailbox is blank (Settings → Reminders), so "
                    f"overdue councillors' escalations to {mailbox} are not sent."
                )
            )
        for skipped in result.unrouted:
            item = skipped.item
            self.stdout.write(
                self.style.WARNING(
                    f"Not sent, no {skipped.mailbox} mailbox: {skipped.councillor}, "
                    f"{item.assignment.module.title} ({item.reason}, {item.days} days)"
                )
            )
        if dry_run:
            self.stdout.write(f"Dry run: {len(result.planned)} message(s) planned, none sent.")
        elif result.skipped:
            self.stdout.write(f"Skipped: {result.skipped}.")
        else:
            self.stdout.write(
                f"{result.created} new message(s) logged; {result.queued} sent or retried."
            )
