"use client";

import { useActionState } from "react";
import type { ActionState } from "@/app/lib/action";
import { manageUserAction } from "./actions";

/** An admin's buttons for one user: role, disable/enable, password reset (the new one shown once). */
export function UserControls({
  email,
  role,
  disabled,
  roles,
}: {
  email: string;
  role: string;
  disabled: boolean;
  roles: readonly string[];
}) {
  const [state, action, pending] = useActionState<ActionState, FormData>(manageUserAction, {});
  const id = `user-${email.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  return (
    <form action={action} aria-describedby={`${id}-result`} data-testid={`user-controls-${email}`}>
      <input type="hidden" name="email" value={email} />
      <label>
        Role of {email}{" "}
        <select name="role" defaultValue={role}>
          {roles.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>{" "}
      <button type="submit" name="op" value="set-role" disabled={pending}>
        Change role
      </button>{" "}
      {disabled ? (
        <button type="submit" name="op" value="enable" disabled={pending}>
          Enable
        </button>
      ) : (
        <button type="submit" name="op" value="disable" disabled={pending}>
          Disable
        </button>
      )}{" "}
      <button type="submit" name="op" value="reset-password" disabled={pending}>
        Reset password
      </button>
      <div id={`${id}-result`} aria-live="polite">
        {state.message && (
          <span className="ok">
            {state.message}
            {state.secret && (
              <>
                : <code data-testid="new-password">{state.secret}</code> (shown once)
              </>
            )}
          </span>
        )}
        {state.errors?.map((e) => (
          <span key={e} className="error">
            {e}
          </span>
        ))}
      </div>
    </form>
  );
}
