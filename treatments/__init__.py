"""Treatment courses, injection sessions with their injectates and sites, side effects,
follow-ups and their reminders, and each patient's record as treatments see it (timeline,
chart); imports stock, patients and recordkeeping."""
