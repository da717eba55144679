export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs" || process.env.NEXT_PHASE === "phase-production-build") return;
  const { boot } = await import("./lib/boot");
  try {
    await boot();
  } catch (err) {
    console.error(`indexdeck cannot start:\n${(err as Error).message}`);
    process.exit(1);
  }
}
