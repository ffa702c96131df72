"""Signals accounts sends for other apps; accounts imports none of their receivers."""

from django.dispatch import Signal

# Sent after an import commits, with sender=User and user_ids: the ids of everyone the import
# created, updated or deactivated (so training can sync their assignments).
people_imported = Signal()

# Sent when councillors' election dates (start_date) change, by an import (after it commits) or
# an admin edit, with sender=User, user_ids (those councillors) and by (who changed them; None
# for the command line), so training can move the due dates of their open assignments.
election_dates_changed = Signal()
