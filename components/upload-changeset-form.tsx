"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";

/**
 * The one form not posted to a server action (app/lib/action.ts formAction): Next caps a server
 * action's body at 1 MB (serverActions.bodySizeLimit) and a change set may be 1 MiB with its query
 * patterns besides, so it goes to POST /api/changesets, the route scripts upload through as well.
 */
export function UploadChangeSetForm() {
  const router = useRouter();
  const [message, setMessage] = useState<string | null>(null);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const text = async (fileField: string, textField: string) => {
      const file = form.get(fileField);
      return file instanceof File && file.size > 0 ? file.text() : String(form.get(textField) ?? "");
    };
    const res = await fetch("/api/changesets", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: form.get("name"), sql: await text("file", "sql"), workloads: await text("workloadsFile", "workloads") }),
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
        <label>
          Query patterns it should speed up (optional; approved with the SQL, used by verify&apos;s plan check and the p95 probes)
          <br />
          <textarea
            name="workloads"
            rows={6}
            placeholder={
              "-- name: orders_by_org\n-- index: orders_org_idx\n-- params: SELECT org_id FROM orders LIMIT 200\nSELECT * FROM orders WHERE org_id = $1;"
            }
          />
        </label>
        <label>
          or a file of them (max 256 KiB)
          <br />
          <input name="workloadsFile" type="file" accept=".sql,text/plain" />
        </label>
        <button type="submit">Store change set</button>
        <p id="upload-status" aria-live="polite">
          {message}
        </p>
      </form>
    </details>
  );
}
