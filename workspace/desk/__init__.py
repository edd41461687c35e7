"""The front desk's day: the grid of the clinic's hours by clinician, booking and moving on it,
proposals to book, the waitlist, and registering patients without duplicates."""
