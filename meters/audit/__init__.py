"""The audit trail: an append-only record of who changed what, when, from where, and the result.

Other apps call ``meters.audit.services.audit_record`` inside the transaction of their change;
user and permission changes are caught from Django's auth signals (``signals``).
"""
