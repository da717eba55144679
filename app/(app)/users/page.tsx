import { LocalTime } from "@/components/local-time";
import { Forbidden } from "@/components/forbidden";
import { ROLES } from "@/lib/auth/policy";
import { listUsers } from "@/lib/auth/users";
import { storePool } from "@/lib/store/pool";
import { pageActor } from "@/app/lib/session";
import { UserControls } from "./user-controls";

export default async function UsersPage() {
  const { allowed } = await pageActor("users:manage");
  if (!allowed) return <Forbidden what="manage users" />;
  const users = await listUsers(storePool());
  return (
    <>
      <h1>Users</h1>
      <p>
        Add users with <code>npx indexdeck users add --email E --role R</code>. Disabling a user, changing their role or resetting their
        password ends their sessions on every server within seconds; the last active admin can be neither disabled nor demoted. Service
        users (for scripts and CI) have no password and act only through API tokens: create them and their tokens on the{" "}
        <a href="/tokens">Tokens</a> page.
      </p>
      <table data-testid="users">
        <thead>
          <tr>
            <th>Login</th>
            <th>Role</th>
            <th>Status</th>
            <th>Created</th>
            <th>Change</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id} data-user={u.email}>
              <td>{u.email}</td>
              <td>
                {u.role}
                {u.service && " (service user: tokens only)"}
              </td>
              <td data-testid="user-status">
                {u.disabledAt ? (
                  <>
                    disabled since <LocalTime at={u.disabledAt} part="day" />
                  </>
                ) : (
                  "active"
                )}
              </td>
              <td>
                <LocalTime at={u.createdAt} part="day" />
              </td>
              <td>
                <UserControls email={u.email} role={u.role} disabled={!!u.disabledAt} roles={ROLES} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
