"use client";

import { useActionState } from "react";
import { approvalAction } from "@/app/(app)/rollouts/actions";
import type { ActionState } from "@/app/lib/action";
import { LocalTime } from "./local-time";

interface ApprovalRow {
  id: number;
  approver: string;
  approverRole: string;
  decision: string;
  comment: string;
  createdAt: string;
}

/** Who approved what and when, what is still needed, and the form for those who may decide. */
export function ApprovalPanel({
  rolloutId,
  sha256,
  targetId,
  required,
  approvals,
  canDecide,
}: {
  rolloutId: number;
  sha256: string;
  targetId: string;
  required: number;
  approvals: ApprovalRow[];
  canDecide: boolean;
}) {
  const [state, action, pending] = useActionState<ActionState, FormData>(approvalAction, {});
  const approved = approvals.filter((a) => a.decision === "approve").length;
  return (
    <div className="card" data-testid="approvals">
      <h2>
        Approvals: {approved} of {required}
        {approved < required ? ` — ${required - approved} more needed` : ""}
      </h2>
      {approvals.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Who</th>
              <th>Decision</th>
              <th>Comment</th>
              <th>When</th>
            </tr>
          </thead>
          <tbody>
            {approvals.map((a) => (
              <tr key={a.id}>
                <td>
                  {a.approver} ({a.approverRole})
                </td>
                <td>{a.decision}</td>
                <td>{a.comment}</td>
                <td>
                  <LocalTime at={a.createdAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canDecide && (
        <form action={action} className="phase-form" style={{ marginTop: 12 }}>
          <input type="hidden" name="rolloutId" value={rolloutId} />
          <input type="hidden" name="changesetSha256" value={sha256} />
          <input type="hidden" name="targetId" value={targetId} />
          <label>
            Comment (required)
            <br />
            <input name="comment" required maxLength={2000} size={40} />
          </label>
          <button type="submit" name="decision" value="approve" disabled={pending}>
            Approve
          </button>
          <button type="submit" name="decision" value="reject" className="secondary" disabled={pending}>
            Reject
          </button>
          <span role="status" aria-live="polite" className={state.errors ? "error" : "ok"}>
            {state.errors?.join("; ") ?? state.message}
          </span>
        </form>
      )}
    </div>
  );
}
