export function Forbidden({ what }: { what: string }) {
  return (
    <div className="card" role="alert">
      <h1>Not allowed</h1>
      <p>Your role may not {what}. Ask an admin if you need it.</p>
    </div>
  );
}
