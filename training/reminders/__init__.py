"""Reminders: planning who is chased today, the sweep and the send, what each email says, the
sweep's schedule, and reads of the reminder log for other parts of training."""
