"use client";

import { signIn } from "next-auth/react";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";

export function LoginForm() {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const form = new FormData(e.currentTarget);
    const res = await signIn("credentials", { redirect: false, username: form.get("username"), password: form.get("password") });
    setBusy(false);
    if (res?.ok) {
      router.push("/");
      router.refresh();
    } else {
      // One message for every failure: it must not tell which logins exist.
      setError("Sign-in failed. Check your login and password; after several failures wait a minute before trying again.");
    }
  }

  return (
    <form className="stack" onSubmit={onSubmit} aria-describedby="login-error">
      <label>
        Login
        <br />
        <input name="username" autoComplete="username" required />
      </label>
      <label>
        Password
        <br />
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      <button type="submit" disabled={busy}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
      <p id="login-error" className="error" aria-live="polite">
        {error}
      </p>
    </form>
  );
}
