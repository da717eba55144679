"use client";

import { useActionState } from "react";
import { signoffAction } from "@/app/(app)/rollouts/actions";
import type { ActionState } from "@/app/lib/action";
import type { ChecklistItem } from "@/lib/rollout/signoff";
import { ChecklistTable } from "./checklist";

/** The seed's readiness checklist: evidence filled in by indexdeck, attestations ticked by the signer. */
export function SignoffForm({ rolloutId, sha256, items }: { rolloutId: number; sha256: string; items: ChecklistItem[] }) {
  const [state, action, pending] = useActionState<ActionState, FormData>(signoffAction, {});
  return (
    <form className="card" action={action} data-testid="signoff-form">
      <h2>Sign-off</h2>
      <input type="hidden" name="rolloutId" value={rolloutId} />
      <input type="hidden" name="changesetSha256" value={sha256} />
      <ChecklistTable items={items} attestable />
      <p className="phase-form" style={{ marginTop: 12 }}>
        <label>
          Decision
          <br />
          <select name="decision" defaultValue="signed_off">
            <option value="signed_off">Signed off</option>
            <option value="signed_off_with_follow_ups">Signed off with follow-ups</option>
            <option value="not_signed_off">Not signed off</option>
          </select>
        </label>
        <label>
          Notes
          <br />
          <textarea name="notes" rows={2} cols={50} maxLength={5000} />
        </label>
        <button type="submit" disabled={pending}>
          Record sign-off
        </button>
        <span role="status" aria-live="polite" className={state.errors ? "error" : "ok"}>
          {state.errors?.join("; ") ?? state.message}
        </span>
      </p>
    </form>
  );
}
