import { Forbidden } from "@/components/forbidden";
import { listUsers } from "@/lib/auth/users";
import { storePool } from "@/lib/store/pool";
import { pageActor } from "@/app/lib/session";

export default async function UsersPage() {
  const { allowed } = await pageActor("users:manage");
  if (!allowed) return <Forbidden what="manage users" />;
  const users = await listUsers(storePool());
  return (
    <>
      <h1>Users</h1>
      <p>Add users with <code>npx indexdeck users add --email E --role R</code>.</p>
      <table>
        <thead><tr><th>Login</th><th>Role</th><th>Created</th></tr></thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id}><td>{u.email}</td><td>{u.role}</td><td>{u.createdAt.toISOString().slice(0, 10)}</td></tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
