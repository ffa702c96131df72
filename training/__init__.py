"""Training: modules and lessons, progress, the evidence, assignments, reminders and HR reports."""
