"use client";

import { useActionState } from "react";
import { phaseAction } from "@/app/(app)/rollouts/actions";
import type { ActionState } from "@/app/lib/action";
import type { Phase, RolloutState } from "@/lib/rollout/machine";

function PhaseForm({
  rolloutId,
  phase,
  state,
  label,
  children,
  secondary,
}: {
  rolloutId: number;
  phase: Phase;
  state: RolloutState;
  label: string;
  children?: React.ReactNode;
  secondary?: boolean;
}) {
  const [result, action, pending] = useActionState<ActionState, FormData>(phaseAction, {});
  return (
    <form action={action} className="phase-form" data-phase={phase}>
      <input type="hidden" name="rolloutId" value={rolloutId} />
      <input type="hidden" name="phase" value={phase} />
      <input type="hidden" name="expectedState" value={state} />
      {children}
      <button type="submit" disabled={pending} className={secondary ? "secondary" : undefined}>
        {pending ? `${label}…` : label}
      </button>
      <span role="status" aria-live="polite" className={result.errors ? "error" : "ok"}>
        {result.errors?.join("; ") ?? result.message}
      </span>
    </form>
  );
}

/**
 * The buttons for the phases the server computed with allowedPhases (lib/rollout/machine.ts) for this
 * person and the rollout's state; the server re-checks everything when one is pressed.
 */
export function RolloutActions({
  rolloutId,
  state,
  phases,
  canOverrideWindow,
  canWaivePromotion,
  canWaiveSearchPath,
}: {
  rolloutId: number;
  state: RolloutState;
  phases: Phase[];
  canOverrideWindow: boolean;
  canWaivePromotion: boolean;
  canWaiveSearchPath: boolean;
}) {
  const p = { rolloutId, state };
  const may = (phase: Phase) => phases.includes(phase);
  return (
    <div className="card actions" data-testid="rollout-actions">
      {may("precheck") && (
        // Once apply is possible, pre-checking again is the second choice.
        <PhaseForm {...p} phase="precheck" label="Run pre-check" secondary={may("apply")}>
          <label>
            Backup id (attest)
            <br />
            <input name="backupId" placeholder="e.g. snap-2026-11-28" maxLength={200} />
          </label>
          <label>
            Free disk (attest, if the server can&apos;t report it)
            <br />
            <input name="diskFree" placeholder="e.g. 120 GiB free on /data" maxLength={500} />
          </label>
          {canOverrideWindow && (
            <label>
              Override maintenance window (reason)
              <br />
              <input name="windowOverride" minLength={10} maxLength={2000} />
            </label>
          )}
          {canWaivePromotion && (
            <label>
              Waive staging-first (reason)
              <br />
              <input name="promotionWaiver" minLength={10} maxLength={2000} />
            </label>
          )}
          {canWaiveSearchPath && (
            <label>
              Waive writable search_path schema (reason)
              <br />
              <input name="searchPathWaiver" minLength={10} maxLength={2000} />
            </label>
          )}
        </PhaseForm>
      )}
      {may("apply") && <PhaseForm {...p} phase="apply" label="Apply" />}
      {may("verify") && <PhaseForm {...p} phase="verify" label="Verify again" secondary />}
      {may("cancel") && <PhaseForm {...p} phase="cancel" label="Cancel build" secondary />}
      {may("rollback") && (
        <PhaseForm {...p} phase="rollback" label="Roll back" secondary>
          <label>
            Reason (required)
            <br />
            <input name="reason" minLength={5} maxLength={2000} required />
          </label>
        </PhaseForm>
      )}
    </div>
  );
}
