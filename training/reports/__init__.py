"""HR reports: filters, figures, live and snapshot counts, exports, the HR pack, pages."""
