"""Reminders: planning, the sweep and the send, email content, schedule, log reads."""
