"use client";

import { useActionState } from "react";
import { createRolloutAction } from "@/app/(app)/rollouts/actions";
import type { ActionState } from "@/app/lib/action";

type Option = { id: string; label: string };

export function NewRolloutForm({ changeSets, targets }: { changeSets: Option[]; targets: Option[] }) {
  const [state, action, pending] = useActionState<ActionState, FormData>(createRolloutAction, {});
  return (
    <form
      className="card"
      action={action}
      aria-describedby="new-rollout-status"
      style={{ display: "flex", gap: 12, alignItems: "end", flexWrap: "wrap" }}
    >
      <label>
        Change set
        <br />
        <select name="changesetId" required defaultValue="">
          <option value="" disabled>
            choose…
          </option>
          {changeSets.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Target
        <br />
        <select name="targetId" required defaultValue="">
          <option value="" disabled>
            choose…
          </option>
          {targets.map((t) => (
            <option key={t.id} value={t.id}>
              {t.label}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={pending}>
        {pending ? "Creating…" : "Create rollout"}
      </button>
      <p id="new-rollout-status" className="error" aria-live="polite" style={{ flexBasis: "100%", margin: 0 }}>
        {state.errors?.join("; ")}
      </p>
    </form>
  );
}
