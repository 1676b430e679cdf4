// @tenantry/audit/testing: the conformance suite of the AuditSink port (re-exports only). It imports
// no test runner: pass core's runner-neutral SuiteApi ({ describe, it, expect }).
export { type AuditSinkHarness, auditSinkConformance } from './testing/audit-sink-suite.js';
