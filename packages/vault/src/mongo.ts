// @tenantry/vault/mongo: MongoDB module factory and snapshot records store (re-exports only).
export {};
