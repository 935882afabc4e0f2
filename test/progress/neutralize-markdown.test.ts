import { describe, expect, it } from "vitest";
import { neutralizeMarkdown } from "../../src/progress/neutralize-markdown.ts";

const live = /(^|[^\w])@[A-Za-z0-9]/;

describe("neutralizeMarkdown", () => {
  it("defuses user and team mentions but leaves e-mail addresses alone", () => {
    const out = neutralizeMarkdown("@octocat, ask @acme/security (or mail a@example.com)");
    expect(out).not.toMatch(live);
    expect(out).toContain("a@example.com");
    expect(out.replace(/\u200b/g, "")).toBe("@octocat, ask @acme/security (or mail a@example.com)");
  });

  it("leaves fenced code alone, but not a line that only looks like a fence", () => {
    expect(neutralizeMarkdown("```ts\n@Component()\n```\n@octocat")).toBe("```ts\n@Component()\n```\n@\u200boctocat");
    expect(neutralizeMarkdown("~~~~\n@x\n~~~\n@y\n~~~~")).toBe("~~~~\n@x\n~~~\n@y\n~~~~");
    // backticks in the info string: inline code, not a fence, so the next line is prose
    expect(neutralizeMarkdown("```a`b\n@octocat")).not.toMatch(live);
  });

  it("breaks HTML comment delimiters everywhere, so nothing is hidden and no marker is forged", () => {
    const out = neutralizeMarkdown("a <!-- octoflow:run:1 --> b\n```\n<!--\n```\nc --!> d");
    expect(out).not.toContain("<!--");
    expect(out).not.toMatch(/--!?>/);
  });
});
