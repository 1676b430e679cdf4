// @tenantry/vault/postgres: PostgreSQL module factory, snapshot records store and migrations (re-exports only).
export {};
