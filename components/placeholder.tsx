export function Placeholder({ title, issue, children }: { title: string; issue: number; children?: React.ReactNode }) {
  return (
    <>
      <h1>{title}</h1>
      <div className="placeholder" data-testid="placeholder">
        <strong>Not built yet.</strong> This page arrives with issue #{issue}. {children}
      </div>
    </>
  );
}
