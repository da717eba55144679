"use client";

import { useActionState } from "react";
import type { ActionState } from "@/app/lib/action";
import { approvePolicyAction, changePolicyAction } from "@/app/(app)/targets/actions";

/** An admin's editor for one target's approval policy, windows and freezes; saves a new version. */
export function PolicyForm({
  targetId,
  basedOn,
  required,
  roles,
  allRoles,
  requesterMayApprove,
  windows,
  freezes,
}: {
  targetId: string;
  basedOn: number;
  required: number;
  roles: string[];
  allRoles: readonly string[];
  requesterMayApprove: boolean;
  windows: string;
  freezes: string;
}) {
  const [state, action, pending] = useActionState<ActionState, FormData>(changePolicyAction, {});
  return (
    <form action={action} className="card" data-testid="policy-form">
      <h2>Change the policy</h2>
      <input type="hidden" name="targetId" value={targetId} />
      <input type="hidden" name="basedOn" value={basedOn} />
      <p>
        <label>
          Approvals required{" "}
          <select name="required" defaultValue={String(required)}>
            <option value="0">0</option>
            <option value="1">1</option>
            <option value="2">2</option>
          </select>
        </label>
      </p>
      <fieldset>
        <legend>Approver roles</legend>
        {allRoles.map((r) => (
          <label key={r} style={{ marginRight: 12 }}>
            <input type="checkbox" name="roles" value={r} defaultChecked={roles.includes(r)} /> {r}
          </label>
        ))}
      </fieldset>
      <p>
        <label>
          <input type="checkbox" name="requesterMayApprove" defaultChecked={requesterMayApprove} /> The requester may approve their own
          rollout
        </label>
      </p>
      <p>
        <label>
          Maintenance windows, one per line: <code>mon,tue 02:00-04:00 Europe/Berlin</code>
          <br />
          <textarea name="windows" rows={4} cols={60} defaultValue={windows} />
        </label>
      </p>
      <p>
        <label>
          Freezes, one per line: <code>2026-12-20T00:00:00Z 2027-01-04T00:00:00Z year-end freeze</code>
          <br />
          <textarea name="freezes" rows={3} cols={60} defaultValue={freezes} />
        </label>
      </p>
      <p>
        <label>
          Reason (required, audited)
          <br />
          <input name="reason" required maxLength={2000} size={60} />
        </label>
      </p>
      <button type="submit" disabled={pending}>
        Save new version
      </button>{" "}
      <span role="status" aria-live="polite" className={state.errors ? "error" : "ok"}>
        {state.message}
      </span>
      {state.errors && (
        <ul className="error" data-testid="policy-errors">
          {state.errors.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      )}
    </form>
  );
}

/** A second admin's approval of a pending production policy version; the server refuses its author. */
export function PolicyApprovalForm({ targetId, version }: { targetId: string; version: number }) {
  const [state, action, pending] = useActionState<ActionState, FormData>(approvePolicyAction, {});
  return (
    <form action={action} data-testid="policy-approve">
      <input type="hidden" name="targetId" value={targetId} />
      <input type="hidden" name="version" value={version} />
      <button type="submit" disabled={pending}>
        Approve version {version}
      </button>{" "}
      <span role="status" aria-live="polite" className={state.errors ? "error" : "ok"}>
        {state.errors?.join("; ") ?? state.message}
      </span>
    </form>
  );
}
