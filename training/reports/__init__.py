"""HR reports: filters, figures, live counting, the snapshot counted ahead, people lists, export
tables and files, the HR pack, charts, permissions, views and their admin wiring."""
