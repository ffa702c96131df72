"""Signals accounts sends for other apps; accounts imports none of their receivers."""

from django.dispatch import Signal

# Sent after an import commits, with sender=User and user_ids: the ids of everyone the import
# created, updated or deactivated (so training can sync their assignments).
people_imported = Signal()
