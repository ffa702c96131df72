"""Assessments: question banks, module quizzes, attempts, marking and item statistics."""
