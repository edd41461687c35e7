"""Patients and what is known of them before any treatment: demographics, contact and reminder
consent, cautions, conditions and outcome scores; imports only recordkeeping."""
