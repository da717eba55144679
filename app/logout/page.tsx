"use client";

import { signOut } from "next-auth/react";
import { useState } from "react";
import { logoutEverywhereAction } from "./actions";

export default function LogoutPage() {
  const [error, setError] = useState<string | null>(null);

  async function everywhere() {
    const result = await logoutEverywhereAction(new FormData());
    if (result.errors) setError(result.errors.join("; "));
    else await signOut({ callbackUrl: "/login" });
  }

  return (
    <main className="login card">
      <h1>Log out of indexdeck?</h1>
      <button onClick={() => signOut({ callbackUrl: "/login" })}>Log out</button> <button onClick={everywhere}>Log out everywhere</button>
      <p>
        <small>Everywhere ends your sessions in every browser and on every device.</small>
      </p>
      <p className="error" aria-live="polite">
        {error}
      </p>
    </main>
  );
}
