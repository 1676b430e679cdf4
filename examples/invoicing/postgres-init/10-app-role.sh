#!/bin/sh
# Runs once, on the first start of an empty data volume (the postgres image's initdb hook), as the
# superuser POSTGRES_USER. Creates the application role the app's migrations grant to (invoicing_app:
# NOLOGIN, no superuser, no BYPASSRLS) and the LOGIN role of the app's tenant pool (DATABASE_APP_URL),
# a member of it. The migrations create invoicing_app themselves when it is missing; it is created
# here first only so that the login role can be made a member of it.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$POSTGRES_APP_PASSWORD" <<'SQL'
CREATE ROLE invoicing_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
CREATE ROLE invoicing_web LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
  PASSWORD :'app_password' IN ROLE invoicing_app;
SQL
