import { LocalTime } from "@/components/local-time";
import { redirect } from "next/navigation";
import { can, roleAtMost, ROLES } from "@/lib/auth/policy";
import { listTokens, MAX_TOKEN_DAYS } from "@/lib/auth/tokens";
import { listUsers } from "@/lib/auth/users";
import { storePool } from "@/lib/store/pool";
import { currentActor } from "@/app/lib/session";
import { NewServiceUserForm, NewTokenForm, RevokeTokenButton } from "./token-forms";
import { fileTargets } from "@/lib/targets/source";

/**
 * API tokens: everyone sees and revokes their own; admins see every token, revoke any, and create
 * service users and tokens for them. A token's secret is shown once, by the form that created it.
 */
export default async function TokensPage() {
  const actor = await currentActor();
  if (!actor) redirect("/login");
  const admin = can(actor.role, "users:manage");
  const pool = storePool();
  const [tokens, users] = await Promise.all([listTokens(pool, admin ? {} : { owner: actor.email }), admin ? listUsers(pool) : []]);
  const owners = [actor.email, ...users.filter((u) => u.service && !u.disabledAt).map((u) => u.email)];
  return (
    <>
      <h1>API tokens</h1>
      <p>
        Scripts and CI send a token as <code>Authorization: Bearer idt_…</code> to the API (described at{" "}
        <a href="/api/openapi.json">/api/openapi.json</a>). A token acts as its owner, with at most its role and never more than the
        owner&apos;s current one, only on its targets when it has some, for at most {MAX_TOKEN_DAYS} days. Every use is in the audit log as
        its owner, via the token. A revoked token stops working on every server within seconds.
      </p>
      <h2>New token</h2>
      <NewTokenForm
        owners={owners}
        roles={ROLES.filter((r) => roleAtMost(r, actor.role))}
        targets={(await fileTargets()()).map((t) => t.id)}
        maxDays={MAX_TOKEN_DAYS}
      />
      {admin && (
        <>
          <h2>New service user</h2>
          <NewServiceUserForm roles={ROLES} />
        </>
      )}
      <h2>{admin ? "All tokens" : "Your tokens"}</h2>
      <table data-testid="tokens">
        <thead>
          <tr>
            <th>#</th>
            <th>Owner</th>
            <th>Name</th>
            <th>Role</th>
            <th>Targets</th>
            <th>Status</th>
            <th>Expires</th>
            <th>Last used</th>
            <th>Action</th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => {
            const status = t.revokedAt ? "revoked" : t.expired ? "expired" : "active";
            return (
              <tr key={t.id} data-token={t.id}>
                <td>{t.id}</td>
                <td>{t.owner}</td>
                <td>{t.name}</td>
                <td>{t.role}</td>
                <td>{t.targets?.join(", ") ?? "all"}</td>
                <td data-testid="token-status">
                  {status}
                  {t.revokedAt && (
                    <>
                      {" "}
                      <LocalTime at={t.revokedAt} part="day" />
                    </>
                  )}
                </td>
                <td>
                  <LocalTime at={t.expiresAt} part="day" />
                </td>
                <td>{t.lastUsedAt ? <LocalTime at={t.lastUsedAt} part="minute" /> : "never"}</td>
                <td>{status === "active" && <RevokeTokenButton id={t.id} name={t.name} />}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}
