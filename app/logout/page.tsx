"use client";

import { signOut } from "next-auth/react";

export default function LogoutPage() {
  return (
    <div className="login card">
      <h1>Log out of indexdeck?</h1>
      <button onClick={() => signOut({ callbackUrl: "/login" })}>Log out</button>
    </div>
  );
}
