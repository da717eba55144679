"use client";

import { useActionState } from "react";
import type { ActionState } from "@/app/lib/action";
import { createServiceUserAction, createTokenAction, revokeTokenAction } from "./actions";

function Result({ id, state }: { id: string; state: ActionState }) {
  return (
    <div id={id} aria-live="polite">
      {state.message && <p className="ok">{state.message}</p>}
      {state.secret && (
        <p>
          Copy it now, it is not shown again: <code data-testid="token-secret">{state.secret}</code>
        </p>
      )}
      {state.errors && (
        <ul className="error">
          {state.errors.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Name, role (up to the creator's), lifetime, optional targets and, for admins, the owner. */
export function NewTokenForm({
  owners,
  roles,
  targets,
  maxDays,
}: {
  owners: string[];
  roles: readonly string[];
  targets: string[];
  maxDays: number;
}) {
  const [state, action, pending] = useActionState<ActionState, FormData>(createTokenAction, {});
  return (
    <form action={action} aria-describedby="new-token-result" data-testid="new-token">
      {owners.length > 1 && (
        <label>
          Owner{" "}
          <select name="owner" defaultValue={owners[0]}>
            {owners.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </label>
      )}{" "}
      <label>
        Name <input name="name" required maxLength={100} placeholder="ci deploy" />
      </label>{" "}
      <label>
        Role{" "}
        <select name="role" defaultValue={roles[roles.length - 1]}>
          {roles.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>{" "}
      <label>
        Days <input name="days" type="number" min={1} max={maxDays} defaultValue={90} required />
      </label>{" "}
      <label>
        Targets (optional) <input name="targets" placeholder={targets.join(", ")} />
      </label>{" "}
      <button type="submit" disabled={pending}>
        Create token
      </button>
      <Result id="new-token-result" state={state} />
    </form>
  );
}

export function RevokeTokenButton({ id, name }: { id: number; name: string }) {
  const [state, action, pending] = useActionState<ActionState, FormData>(revokeTokenAction, {});
  return (
    <form action={action} aria-describedby={`revoke-${id}-result`}>
      <input type="hidden" name="id" value={id} />
      <button type="submit" disabled={pending} aria-label={`Revoke token ${id} (${name})`}>
        Revoke
      </button>
      <Result id={`revoke-${id}-result`} state={state} />
    </form>
  );
}

export function NewServiceUserForm({ roles }: { roles: readonly string[] }) {
  const [state, action, pending] = useActionState<ActionState, FormData>(createServiceUserAction, {});
  return (
    <form action={action} aria-describedby="new-service-user-result" data-testid="new-service-user">
      <label>
        Login <input name="email" required maxLength={254} placeholder="ci-bot" />
      </label>{" "}
      <label>
        Role{" "}
        <select name="role" defaultValue="sre">
          {roles.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>{" "}
      <button type="submit" disabled={pending}>
        Create service user
      </button>
      <Result id="new-service-user-result" state={state} />
    </form>
  );
}
