import { describe, expect, it } from "vitest";
import { connectionSummary, redactConnectionSecrets } from "./display";

// One distinctive secret per form a connection URL can carry one in.
const FORMS = {
  userinfo: "postgres://app:Userinfo%40Secret1@db.internal:6543/orders",
  password: "postgres://app@db.internal:6543/orders?password=QuerySecret2&sslmode=disable",
  sslpassword: "postgresql://app@db.internal:6543/orders?sslpassword=KeyPassphrase3",
  passfile: "postgres://app@db.internal:6543/orders?passfile=%2Fetc%2Findexdeck%2FPassfileSecret4",
};
// Each secret as a driver or a person might repeat it: as written in the URL, and decoded.
const SECRETS: Record<keyof typeof FORMS, string[]> = {
  userinfo: ["Userinfo@Secret1", "Userinfo%40Secret1"],
  password: ["QuerySecret2"],
  sslpassword: ["KeyPassphrase3"],
  passfile: ["/etc/indexdeck/PassfileSecret4", "%2Fetc%2Findexdeck%2FPassfileSecret4"],
};

describe("connection URLs as shown", () => {
  it("are host, port, database and user only, for every form a secret can take", () => {
    for (const url of Object.values(FORMS)) expect(connectionSummary(url)).toBe("app@db.internal:6543/orders");
  });

  it("take host, port, database and user from the parameters libpq reads them from", () => {
    expect(connectionSummary("postgres:///orders?host=%2Fvar%2Frun%2Fpostgresql&user=ops&password=x")).toBe(
      "ops@/var/run/postgresql:5432/orders",
    );
    expect(connectionSummary("postgres://h/db")).toBe("h:5432/db");
    expect(connectionSummary("not a url QuerySecret2")).toBe("(unparseable connection URL)");
  });

  it("leave no secret in a message that repeats it, in any form, nor the URL itself", () => {
    for (const [form, url] of Object.entries(FORMS) as Array<[keyof typeof FORMS, string]>) {
      const message = `could not connect to ${url}: ${SECRETS[form].join(" and ")} rejected`;
      const redacted = redactConnectionSecrets(message, url);
      for (const secret of SECRETS[form]) expect(redacted).not.toContain(secret);
      expect(redacted).toBe(`could not connect to app@db.internal:6543/orders: ${SECRETS[form].map(() => "*****").join(" and ")} rejected`);
    }
    expect(redactConnectionSecrets("password authentication failed for QuerySecret2", FORMS.password)).toBe(
      "password authentication failed for *****",
    );
  });
});
