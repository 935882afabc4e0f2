import { describe, expect, it } from "vitest";
import { helpText, parseCommand, parseFixRequest, proseLines } from "../../src/github/command-parser.ts";

describe("parseCommand", () => {
  it("parses every built-in command", () => {
    expect(parseCommand("/octoflow help")).toEqual({ name: "help" });
    expect(parseCommand("/octoflow review")).toEqual({ name: "review" });
    expect(parseCommand("/octoflow status")).toEqual({ name: "status" });
    expect(parseCommand("/octoflow cancel")).toEqual({ name: "cancel" });
    expect(parseCommand("/octoflow retry")).toEqual({ name: "retry" });
    expect(parseCommand("/octoflow")).toEqual({ name: "help" });
    expect(parseCommand("/octoflow approve")).toEqual({ name: "approve" });
    expect(parseCommand("/octoflow Approve generate")).toEqual({ name: "approve", step: "generate" });
  });

  it("takes at most one step id after approve", () => {
    expect(parseCommand("/octoflow approve a b")).toMatchObject({ name: "help", problem: expect.stringContaining("at most a step id") });
    expect(parseCommand("/octoflow approve ../x")).toMatchObject({ name: "help", problem: expect.stringContaining("at most a step id") });
    expect(helpText()).toContain("| `/octoflow approve [step]` |");
  });

  it("parses run with key=value inputs, quoted values included", () => {
    expect(parseCommand('Please do this\n/octoflow run bug-fix priority=high note="two words" x=\'y z\'')).toEqual({
      name: "run",
      workflow: "bug-fix",
      inputs: { priority: "high", note: "two words", x: "y z" },
    });
  });

  it("turns unknown words into an alias and broken input into help with a problem", () => {
    expect(parseCommand("/octoflow fix area=api")).toEqual({ name: "alias", alias: "fix", inputs: { area: "api" } });
    expect(parseCommand("/octoflow run")).toMatchObject({ name: "help", problem: expect.stringContaining("needs a workflow") });
    expect(parseCommand("/octoflow run ../etc")).toMatchObject({ name: "help", problem: expect.stringContaining("not a valid workflow") });
    expect(parseCommand("/octoflow run a novalue")).toMatchObject({ name: "help", problem: expect.stringContaining("key=value") });
    expect(parseCommand('/octoflow run a x="unbalanced')).toMatchObject({ name: "help" });
    expect(parseCommand("/octoflow !!!")).toMatchObject({ name: "help", problem: expect.stringContaining("not an Octoflow command") });
  });

  it("ignores commands in quotes, fenced and indented code blocks, HTML comments and mid-line", () => {
    expect(parseCommand("> /octoflow run bug-fix")).toBeUndefined();
    expect(parseCommand("```\n/octoflow run bug-fix\n```")).toBeUndefined();
    expect(parseCommand("~~~~\n/octoflow cancel\n~~~~")).toBeUndefined();
    expect(parseCommand("text\n\n    /octoflow cancel")).toBeUndefined();
    expect(parseCommand("<!--\n/octoflow cancel\n-->")).toBeUndefined();
    expect(parseCommand("try `/octoflow cancel` later")).toBeUndefined();
    expect(parseCommand("no command here")).toBeUndefined();
    // the fence closes: a command after it counts
    expect(parseCommand("```\ncode\n```\n/octoflow status")).toEqual({ name: "status" });
  });

  it("ignores commands hidden by a mid-line HTML comment, in a quote's lazy continuation, or behind an invalid closing fence", () => {
    expect(parseCommand("see below <!--\n/octoflow cancel\n-->")).toBeUndefined();
    expect(parseCommand("<!-- a --> <!--\n/octoflow cancel\n-->")).toBeUndefined();
    expect(parseCommand("> quoted text\n/octoflow cancel")).toBeUndefined();
    // a closing fence may be indented at most 3 spaces and must match the opening's character
    expect(parseCommand("```\ncode\n    ```\n/octoflow cancel")).toBeUndefined();
    expect(parseCommand("```\n/octoflow cancel\n~~~\n/octoflow cancel")).toBeUndefined();
    // after the quote ends (blank line) or the comment closes, commands count again
    expect(parseCommand("> quoted text\n\n/octoflow status")).toEqual({ name: "status" });
    expect(parseCommand("<!--\nhidden\n-->\n/OctoFlow Status\r\n")).toEqual({ name: "status" });
    expect(parseCommand("a <!-- b --> c\n/octoflow retry")).toEqual({ name: "retry" });
  });

  it("echoes an unknown word as inline code it cannot break out of", () => {
    const unknown = parseCommand("/octoflow x`@octocat`");
    expect(unknown).toEqual({ name: "help", problem: "`x'@octocat'` is not an Octoflow command." });
    const input = parseCommand("/octoflow run wf `@octocat`");
    expect(input).toEqual({ name: "help", problem: "`'@octocat'` is not a key=value input." });
  });

  it("bounds inputs", () => {
    const many = Array.from({ length: 21 }, (_, i) => `k${i}=v`).join(" ");
    expect(parseCommand(`/octoflow run wf ${many}`)).toMatchObject({ name: "help", problem: expect.stringContaining("At most") });
    expect(parseCommand(`/octoflow run wf k=${"x".repeat(1001)}`)).toMatchObject({ name: "help", problem: expect.stringContaining("longer than") });
  });

  it("keeps prose lines only and renders help with the workflows", () => {
    expect(proseLines("a\r\n> b\r\n\r\n    c\r\nd")).toEqual(["a", "d"]);
    expect(helpText("Oops.", ["bug-fix"])).toMatch(/^Oops\.[\s\S]*`\/octoflow run <workflow>[\s\S]*`bug-fix`/);
  });
});

describe("parseFixRequest (review comments and review bodies)", () => {
  it("takes the free text after `/octoflow fix`, with the prose lines after it", () => {
    expect(parseFixRequest("Good start.\n/octoflow fix use a Map here")).toEqual({ request: "use a Map here" });
    expect(parseFixRequest("/OctoFlow FIX\nrename `x`\n> quoted: ignore me\n\nand add a test")).toEqual({ request: "rename `x`\nand add a test" });
    expect(parseFixRequest("/octoflow fix")).toEqual({ request: "" });
    expect(parseFixRequest(`/octoflow fix ${"y".repeat(5000)}`)?.request).toHaveLength(4000);
  });

  it("ignores other commands, quoted or fenced requests and words that only start with fix", () => {
    expect(parseFixRequest("/octoflow status")).toBeUndefined();
    expect(parseFixRequest("/octoflow fixup")).toBeUndefined();
    expect(parseFixRequest("> /octoflow fix it")).toBeUndefined();
    expect(parseFixRequest("```\n/octoflow fix it\n```")).toBeUndefined();
    expect(parseFixRequest("please /octoflow fix it")).toBeUndefined();
  });

  it("leaves `/octoflow fix` in an issue comment to parseCommand (the bug-fix alias)", () => {
    expect(parseCommand("/octoflow fix")).toEqual({ name: "alias", alias: "fix", inputs: {} });
    expect(helpText()).toContain("In a review comment or a review on a pull request Octoflow opened, `/octoflow fix [what to do]`");
  });
});
