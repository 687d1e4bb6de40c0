"""The download portal: partner users sign in and download their own partner's publications.

A small server-rendered FastAPI app over published/ (read-only), a portal database of users,
sign-in failures and sessions (exports/portal/store.py), and the append-only audit log (every
sign-in, sign-out, download and refused request). docs/portal.md says how to run it.
"""
