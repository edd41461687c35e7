"""Patients report their own outcomes: questionnaires kept as data, invitations planned per
course and sent, chased and listed for a call, the patient's pages, and their scoring into
outcome scores marked patient-reported. Imports treatments, patients and recordkeeping."""
