import { describe, expect, it } from "vitest";
import { describeWebhookAddress } from "../../src/github/webhook-address.ts";

describe("describeWebhookAddress", () => {
  it("names a reachable address for the wildcard host and brackets IPv6", () => {
    expect(describeWebhookAddress({ HOST: "0.0.0.0", PORT: 3000 })).toMatch(/^webhooks: expected at http:\/\/localhost:3000\/api\/github\/webhooks — /);
    expect(describeWebhookAddress({ HOST: "::1", PORT: 8080 })).toContain("http://[::1]:8080/api/github/webhooks");
  });

  it("shows the proxy's origin but never the channel path, which lets anyone read the deliveries", () => {
    const line = describeWebhookAddress({ HOST: "0.0.0.0", PORT: 3000, WEBHOOK_PROXY_URL: "https://smee.io/Zx8kQ2secretish" });
    expect(line).toBe("webhooks: GitHub → https://smee.io/… (WEBHOOK_PROXY_URL) → http://localhost:3000/api/github/webhooks");
  });
});
