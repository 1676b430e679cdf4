// @tenantry/approvals/testing: the conformance suite for approval stores (re-exports only).
export {
  type ApprovalStoreHarness,
  type SuiteFixture,
  approvalStoreConformance,
  suiteActors,
  suiteFixture,
} from './testing/approval-store-suite.js';
