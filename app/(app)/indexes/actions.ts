"use server";

import * as z from "zod";
import { draftDropChangeSet, DraftRefusedError } from "@/lib/monitor/drop-draft";
import { storePool } from "@/lib/store/pool";
import { findTarget } from "@/lib/targets/config";
import { formAction } from "@/app/lib/action";
import { fileTargets } from "@/lib/targets/source";

// A catalog name is at most 63 bytes; the form carries it as the browser got it, CR, LF and all.
const DraftForm = z.object({ targetId: z.string().min(1).max(63), schema: z.string().min(1).max(63), index: z.string().min(1).max(63) });

/**
 * Turns a report finding into a DROP INDEX CONCURRENTLY change set (see draftDropChangeSet): the
 * browser only names the target, the schema and the index; the SQL is rebuilt on the server from a
 * fresh report and re-planned before it is stored.
 *
 * The one form answered by a redirect rather than state: each finding of the Indexes page (a server
 * component, hundreds of rows) is a plain form without client code, so every outcome is where the
 * browser goes next, with a code (never text) in the URL for the page to explain.
 */
export async function draftDropAction(form: FormData): Promise<void> {
  await formAction(form, {
    schema: DraftForm,
    permission: "changeset:create",
    context: "drafting a DROP change set",
    refusedTo: (state) =>
      `/indexes?error=${state.status === 401 || state.status === 403 ? "forbidden" : state.status === 422 ? "unknown-target" : "failed"}`,
    run: async ({ targetId, schema, index }, actor) => {
      const target = findTarget(await fileTargets()(), targetId);
      if (!target) return { redirect: "/indexes?error=unknown-target" };
      const reports = `/indexes?target=${encodeURIComponent(target.id)}&tab=reports`;
      let result;
      try {
        result = await draftDropChangeSet(storePool(), target, { schema, name: index }, actor);
      } catch (err) {
        if (!(err instanceof DraftRefusedError)) throw err;
        // JSON, so a name's CR or LF cannot start a line of its own in the server's log.
        console.error(`[indexdeck] ${JSON.stringify(err.message)}`);
        return { redirect: `${reports}&error=draft-refused` };
      }
      if (result.outcome === "no-finding") return { redirect: `${reports}&error=no-finding` };
      if (result.outcome === "kept") {
        console.error(`[indexdeck] ${JSON.stringify(`draft refused: ${schema}.${index} ${result.verdict.reason}`)}`);
        return { redirect: `${reports}&error=kept&schema=${encodeURIComponent(schema)}&index=${encodeURIComponent(index)}` };
      }
      return { redirect: "/changesets" };
    },
  });
}
