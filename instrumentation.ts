export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs" || process.env.NEXT_PHASE === "phase-production-build") return;
  const { bootOrExit } = await import("./lib/serve/boot");
  await bootOrExit();
}
