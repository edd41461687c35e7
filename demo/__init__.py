"""Demo data: realistic patients, courses, sessions, side effects, follow-ups and scores for
trying the clinic out (`seed_demo`, `demo_setup`); imports treatments, patients and
recordkeeping."""
