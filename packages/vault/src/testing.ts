// @tenantry/vault/testing: conformance suites (re-exports only).
export {};
