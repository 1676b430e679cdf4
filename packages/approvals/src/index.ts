// @tenantry/approvals: the public face (re-exports only; backends live in their subpaths).
export { ApprovalErrorCodes, type ApprovalErrorCode, ApprovalError } from './errors.js';
export {
  ActionNameSchema,
  ActionPatternSchema,
  ApprovalPolicySchema,
  type ApprovalPolicy,
  type ApprovalPolicyInput,
  BypassSettingsSchema,
  type BypassSettings,
  PolicySetInputSchema,
  type PolicySetInput,
  type PolicySet,
  matchPolicy,
} from './policy.js';
export {
  type ApprovalState,
  type ExecutionState,
  type RequestStatus,
  ResourceRefSchema,
  type ResourceRef,
  CreateRequestSchema,
  type CreateRequestInput,
  DecisionInputSchema,
  type DecisionInput,
  BypassInputSchema,
  type BypassInput,
  ExecuteInputSchema,
  type ExecuteInput,
  type HistoryEntry,
  type PolicySnapshot,
  type ApprovalRequest,
  type ApprovalRequestView,
  isExpired,
  viewOf,
} from './request.js';
export type {
  ApprovalStore,
  ApprovalStoreCapabilities,
  ApprovalStoreTx,
  InsertOptions,
  InsertOutcome,
  RequestQuery,
} from './approval-store.js';
export type {
  ActionContext,
  ActionHandler,
  ResourceHookContext,
  ResourceHooks,
  UnlockReason,
} from './handlers.js';
export {
  type ApprovalEngineOptions,
  type TransactionOption,
  ListQuerySchema,
  type ListQuery,
  InboxQuerySchema,
  type InboxQuery,
  type RequestPage,
  type SetPoliciesInput,
  type ApprovalEngine,
} from './approval-engine.js';
export { createApprovalEngine } from './engine.js';
