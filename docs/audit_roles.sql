-- PostgreSQL roles for the disclosure audit log and the release ledger (ISTV_AUDIT_URL).
--
-- Run once as a superuser, connected to the audit database. The owner role creates the tables
-- (`istv audit-init`, connected as istv_audit_owner) and is used for nothing else; the pipeline
-- and the portal connect as istv_audit_writer, which may only INSERT and SELECT. Only a table's
-- owner (or a superuser) may ALTER it, DROP or DISABLE its triggers, so the writer cannot
-- switch off the append-only triggers, and UPDATE, DELETE and TRUNCATE are not granted to it.
-- Set each role's password with \password; keep the owner's apart from the pipeline's secrets.
-- tests/e2e/test_audit_tamper.py runs this file as it is.

CREATE ROLE istv_audit_owner LOGIN;
CREATE ROLE istv_audit_writer LOGIN;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO istv_audit_owner;
GRANT USAGE ON SCHEMA public TO istv_audit_writer;
ALTER DEFAULT PRIVILEGES FOR ROLE istv_audit_owner IN SCHEMA public
    GRANT SELECT, INSERT ON TABLES TO istv_audit_writer;
ALTER DEFAULT PRIVILEGES FOR ROLE istv_audit_owner IN SCHEMA public
    GRANT USAGE ON SEQUENCES TO istv_audit_writer;
