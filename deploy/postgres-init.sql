-- The shared evidence store's role and database (docker-compose.yml mounts this into the postgres image's
-- /docker-entrypoint-initdb.d, which runs it once, when the data volume is created). The store makes its tables
-- itself on first use. Change the password here and in docker-compose.yml's LANES_EVIDENCE_URL together.
CREATE ROLE lanes_evidence LOGIN PASSWORD 'lanes_evidence';
CREATE DATABASE lanes_evidence OWNER lanes_evidence;
REVOKE ALL ON DATABASE lanes_evidence FROM PUBLIC;
