// @tenantry/express/approvals: four-eyes approvals over HTTP (re-exports only). Needs the optional
// peer @tenantry/approvals.
export {
  type ApprovalRoutesOptions,
  type ExpressApprovals,
  type RequireApprovalSpec,
  approvalRoutes,
} from './approval-routes.js';
