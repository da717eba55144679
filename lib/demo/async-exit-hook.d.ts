// The one call lib/demo/embedded.ts makes into async-exit-hook (it ships no types).
declare module "async-exit-hook" {
  const exitHook: { unhookEvent(event: string): void };
  export default exitHook;
}
