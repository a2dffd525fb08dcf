/** Declared in the catalogue, where the approval actions' inputs are (src/catalogue/approval-states.ts). */
export { APPROVAL_STATES, FINAL_STATES, type ApprovalState } from '../catalogue/approval-states';
