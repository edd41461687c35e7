"""Screens for the clinic's staff (clinicians, front desk): Django templates and htmx over the
same services, permission matrix and access log as the API; imports questionnaires, treatments,
stock, patients and recordkeeping (never reports, interop or the shell)."""
