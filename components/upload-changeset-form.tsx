"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";

export function UploadChangeSetForm() {
  const router = useRouter();
  const [message, setMessage] = useState<string | null>(null);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const file = form.get("file");
    const sql = file instanceof File && file.size > 0 ? await file.text() : String(form.get("sql") ?? "");
    const res = await fetch("/api/changesets", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: form.get("name"), sql }),
    });
    const body = await res.json().catch(() => ({}));
    if (res.ok) {
      setMessage(`Stored ${body.id} (sha256 ${String(body.sha256).slice(0, 12)}…) with ${body.findings.length} findings.`);
      router.refresh();
    } else {
      setMessage(`Refused (${res.status}): ${body.error ?? "unknown error"}${body.fields ? ` — ${body.fields.join("; ")}` : ""}`);
    }
  }

  return (
    <details className="card">
      <summary>Upload or paste a change set</summary>
      <form className="stack" style={{ maxWidth: 720 }} onSubmit={onSubmit} aria-describedby="upload-status">
        <label>
          Name
          <br />
          <input name="name" placeholder="002_orders_indexes.sql" required />
        </label>
        <label>
          SQL
          <br />
          <textarea name="sql" rows={8} placeholder="CREATE INDEX CONCURRENTLY IF NOT EXISTS …" />
        </label>
        <label>
          or a file (max 1 MiB)
          <br />
          <input name="file" type="file" accept=".sql,text/plain" />
        </label>
        <button type="submit">Store change set</button>
        <p id="upload-status" aria-live="polite">
          {message}
        </p>
      </form>
    </details>
  );
}
