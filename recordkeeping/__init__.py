"""The bottom floor, shared by every app: roles and the permission matrix, staff accounts and
API tokens, the audit trail (change history, access log, hash chain), the API's and the admin's
common ground, and database helpers; it imports no other package of the project."""
