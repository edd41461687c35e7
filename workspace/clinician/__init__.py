"""The clinician's screens: a patient's chart, logging a session on one screen with a body map,
and a session's own page (sign, addenda, cancel)."""
