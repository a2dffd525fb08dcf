import type { Harness } from './harness';
import { tokenFor } from './tokens';

/**
 * A guarded DELETE as the two-person rule runs it: the requester asks (202), a second admin approves, the gateway
 * executes. Returns the approving call's answer (`approval.state`, and `upstream` with the status and body).
 */
export async function deleteWithApproval(
  h: Harness,
  path: string,
  requester: string,
  approver = tokenFor('admin', 'second-pair-of-eyes'),
) {
  const asked = await h.api().delete(path).set('Authorization', `Bearer ${requester}`);
  if (asked.status !== 202) throw new Error(`expected 202 for ${path}, got ${asked.status}: ${asked.text}`);
  const approved = await h
    .api()
    .post(`/v1/approvals/${asked.body.approval.id}/approve`)
    .set('Authorization', `Bearer ${approver}`)
    .send({});
  if (approved.status !== 200) throw new Error(`approval of ${path} answered ${approved.status}: ${approved.text}`);
  return approved;
}
