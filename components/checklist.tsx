import type { ChecklistItem } from "@/lib/rollout/signoff";

export function ChecklistTable({ items, attestable }: { items: ChecklistItem[]; attestable?: boolean }) {
  return (
    <table data-testid="checklist">
      <thead>
        <tr>
          <th>Section</th>
          <th>Item</th>
          <th>Status</th>
          <th>Evidence</th>
        </tr>
      </thead>
      <tbody>
        {items.map((c) => (
          <tr key={c.id} data-item={c.id}>
            <td>{c.section}</td>
            <td>{c.label}</td>
            <td>
              {attestable && c.kind === "attestation" ? (
                <label>
                  <input type="checkbox" name="attested" value={c.id} /> I attest
                </label>
              ) : (
                <strong className={c.ok === true ? "ok" : c.ok === false ? "bad" : "warn"}>
                  {c.ok === true ? "yes" : c.ok === false ? "no" : "not measured"}
                </strong>
              )}
            </td>
            <td>{c.evidence}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
