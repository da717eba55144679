import { LoginForm } from "./login-form";

export default function LoginPage() {
  return (
    <main className="login card">
      <h1>Sign in to indexdeck</h1>
      <LoginForm />
    </main>
  );
}
