import { mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadTargets, parseTargetsFile } from "./config";
import { targetUrl } from "./urls";

const good = {
  targets: [{ id: "prod", label: "Prod", environment: "production", urlEnv: "PROD_DB_URL", approvals: { required: 2 } }],
};

describe("targets file", () => {
  it("reads a valid file, filling policy defaults", () => {
    const [t] = parseTargetsFile(JSON.stringify(good), "t.json");
    expect(t.approvals).toEqual({ required: 2, roles: ["dba", "sre"], requesterMayApprove: false });
    expect(t.probes.enabled).toBe(false);
  });

  it("names the file, the field and the problem", () => {
    const bad = { targets: [{ ...good.targets[0], environment: "prod" }] };
    expect(() => parseTargetsFile(JSON.stringify(bad), "t.json")).toThrow(/^t\.json: targets\.0\.environment: /);
  });

  it("requires exactly one of url and urlEnv", () => {
    const both = { targets: [{ ...good.targets[0], url: "postgres://x@h/db" }] };
    expect(() => parseTargetsFile(JSON.stringify(both), "t.json")).toThrow(/targets\.0\.url: give exactly one of url or urlEnv/);
  });

  it("reads replicas with their defaults, and refuses a replica id that names another node or the primary", () => {
    const withReplicas = (replicas: unknown[], more: unknown[] = []) =>
      JSON.stringify({ targets: [{ ...good.targets[0], replicas }, ...more] });
    const [t] = parseTargetsFile(withReplicas([{ id: "prod_r1", urlEnv: "PROD_R1_URL", label: "Reads" }]), "t.json");
    expect(t.replicas).toEqual([{ id: "prod_r1", urlEnv: "PROD_R1_URL", label: "Reads" }]);
    expect(t.unusedWindowDays).toBe(14);
    expect(parseTargetsFile(JSON.stringify(good), "t.json")[0].replicas).toEqual([]);
    expect(() => parseTargetsFile(withReplicas([{ id: "primary", urlEnv: "R" }]), "t.json")).toThrow(
      /t\.json: targets\.0\.replicas\.0\.id: "primary" names every target's primary/,
    );
    expect(() => parseTargetsFile(withReplicas([{ id: "r", urlEnv: "R", url: "postgres://h/db" }]), "t.json")).toThrow(
      /targets\.0\.replicas\.0\.url: give exactly one of url or urlEnv/,
    );
    expect(() =>
      parseTargetsFile(
        withReplicas(
          [{ id: "stage", urlEnv: "R" }],
          [{ id: "stage", label: "S", environment: "staging", urlEnv: "S", approvals: { required: 0 } }],
        ),
        "t.json",
      ),
    ).toThrow(/targets\.0\.replicas\.0\.id: stage is already a target or replica id/);
    expect(() =>
      parseTargetsFile(
        withReplicas([
          { id: "r1", urlEnv: "R" },
          { id: "r1", urlEnv: "S" },
        ]),
        "t.json",
      ),
    ).toThrow(/targets\.0\.replicas\.1\.id: r1 is already a target or replica id/);
  });

  it("reads a target's apply settings, and refuses a pause on replica lag with no replica to measure, or a size PostgreSQL would not read", () => {
    const withApply = (apply: unknown, replicas: unknown[] = []) => JSON.stringify({ targets: [{ ...good.targets[0], replicas, apply }] });
    expect(parseTargetsFile(JSON.stringify(good), "t.json")[0].apply).toEqual({
      pauseWhen: { wraparoundVacuum: false },
      recheckSeconds: 5,
    });
    const [t] = parseTargetsFile(
      withApply(
        { maxParallelMaintenanceWorkers: 0, maintenanceWorkMem: "256MB", pauseWhen: { replicaLagSeconds: 10, activeConnections: 200 } },
        [{ id: "prod_r1", urlEnv: "R" }],
      ),
      "t.json",
    );
    expect(t.apply).toEqual({
      maxParallelMaintenanceWorkers: 0,
      maintenanceWorkMem: "256MB",
      pauseWhen: { replicaLagSeconds: 10, activeConnections: 200, wraparoundVacuum: false },
      recheckSeconds: 5,
    });
    expect(() => parseTargetsFile(withApply({ pauseWhen: { replicaLagSeconds: 10 } }), "t.json")).toThrow(
      /^t\.json: targets\.0\.apply\.pauseWhen\.replicaLagSeconds: replicaLagSeconds needs the target's replicas/,
    );
    expect(() => parseTargetsFile(withApply({ maintenanceWorkMem: "lots" }), "t.json")).toThrow(
      /targets\.0\.apply\.maintenanceWorkMem: must be a size such as '1GB'/,
    );
    expect(() => parseTargetsFile(withApply({ pauseWhen: { lagSeconds: 10 } }), "t.json")).toThrow(/targets\.0\.apply\.pauseWhen: /);
  });

  it("reports malformed JSON with the file name", () => {
    expect(() => parseTargetsFile("{", "t.json")).toThrow(/^t\.json: not valid JSON/);
  });

  it("rejects duplicate ids and unknown fields", () => {
    const dup = { targets: [good.targets[0], good.targets[0]] };
    expect(() => parseTargetsFile(JSON.stringify(dup), "t.json")).toThrow(/target ids must be unique/);
    const extra = { targets: [{ ...good.targets[0], pasword: "x" }] };
    expect(() => parseTargetsFile(JSON.stringify(extra), "t.json")).toThrow(/pasword/);
  });

  it("reads the URL from the named environment variable and says when it is missing", () => {
    const [t] = parseTargetsFile(JSON.stringify(good), "t.json");
    delete process.env.PROD_DB_URL;
    expect(() => targetUrl(t)).toThrow(/PROD_DB_URL is not set/);
    process.env.PROD_DB_URL = "postgres://u:s3cret@h/db";
    expect(targetUrl(t)).toBe("postgres://u:s3cret@h/db");
  });

  it("reads the file as it is now, each caller getting its own copy", () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "targets-")), "targets.json");
    const write = (label: string, at: number) => {
      writeFileSync(file, JSON.stringify({ targets: [{ ...good.targets[0], label }] }));
      utimesSync(file, at, at);
    };
    write("One", 1_000_000);
    const first = loadTargets(file);
    expect(first[0].label).toBe("One");
    first[0].approvals.required = 0; // a caller changing what it got
    expect(loadTargets(file)[0].approvals.required).toBe(2);
    write("Two", 1_000_100); // same size, new content
    expect(loadTargets(file)[0].label).toBe("Two");
    writeFileSync(file, "{ broken");
    expect(() => loadTargets(file)).toThrow(/not valid JSON/);
    expect(loadTargets(path.join(path.dirname(file), "missing.json"))).toEqual([]);
  });
});
