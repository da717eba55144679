import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { deliveryBody, noticeUrl, signature, type DeliveryPayload } from "./notify";

const P: DeliveryPayload = {
  webhookId: "ops",
  deliveryId: "7d0f3c52-3a0b-4f5e-9a51-2f3c4b5d6e7f",
  event: "failed",
  targetId: "chefcloud_prod",
  rolloutId: 42,
  at: "2026-11-30T18:00:00.000Z",
  changeset: "<!channel> & friends.sql",
  state: "approved",
  phase: "precheck",
  error: "pre-check failed",
  index: null,
  approverRoles: null,
};

describe("webhook bodies", () => {
  it("signs the exact bytes with HMAC-SHA256 of the secret", () => {
    const body = deliveryBody("json", P, "https://ops.example");
    expect(signature("s3cret", body)).toBe(`sha256=${createHmac("sha256", "s3cret").update(body).digest("hex")}`);
    expect(signature("s3cret", `${body} `)).not.toBe(signature("s3cret", body));
  });

  it("gives the JSON contract's fields, the page's URL from the public base URL", () => {
    expect(JSON.parse(deliveryBody("json", P, "https://ops.example/"))).toMatchObject({
      event: "failed",
      deliveryId: P.deliveryId,
      rolloutId: 42,
      targetId: "chefcloud_prod",
      at: P.at,
      url: "https://ops.example/rollouts/42",
      summary: "Rollout #42 of <!channel> & friends.sql on chefcloud_prod failed in precheck: pre-check failed",
    });
    expect(noticeUrl({ rolloutId: null, targetId: "a b" }, "https://ops.example")).toBe("https://ops.example/indexes?target=a%20b");
    expect(noticeUrl(P, undefined)).toBeNull();
  });

  it("writes Slack's text with a change set's name unable to mention or link", () => {
    expect(JSON.parse(deliveryBody("slack", P, "https://ops.example"))).toEqual({
      text: "indexdeck: Rollout #42 of &lt;!channel&gt; &amp; friends.sql on chefcloud_prod failed in precheck: pre-check failed <https://ops.example/rollouts/42|open>",
    });
  });
});
