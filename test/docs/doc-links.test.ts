/**
 * The README and docs/ link only to files of this repository (nothing like ../shared/…), every
 * relative link resolves to an existing file, and every #anchor to a heading of the target page.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
const pages = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let inFence = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) inFence = !inFence;
    const heading = inFence ? null : /^#{1,6} (.+)$/.exec(line);
    if (heading?.[1]) anchors.add(heading[1].toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-"));
  }
  return anchors;
}

function linksOf(markdown: string): string[] {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? "");
}

describe.each(pages)("%s", (page) => {
  const text = readFileSync(join(ROOT, page), "utf8");
  const local = linksOf(text).filter((link) => !/^[a-z]+:/i.test(link));

  it("links only to files inside the repository that exist, and to headings that exist", () => {
    expect(text).not.toMatch(/\.\.\/shared\/|\/work\//);
    for (const link of local) {
      const [path = "", anchor] = link.split("#");
      const target = path === "" ? page : normalize(join(dirname(page), path));
      expect(relative(ROOT, join(ROOT, target)).startsWith(".."), `${link} leaves the repository`).toBe(false);
      expect(existsSync(join(ROOT, target)), `${link}: ${target} does not exist`).toBe(true);
      if (anchor && target.endsWith(".md")) expect([...anchorsOf(readFileSync(join(ROOT, target), "utf8"))], link).toContain(anchor);
    }
  });
});

describe("README", () => {
  it("has its links found by the checker", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(linksOf(readme).filter((link) => link.startsWith("docs/")).length).toBeGreaterThanOrEqual(10);
  });

  it("fits a couple of screens and links every docs page", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme.split("\n").length).toBeLessThanOrEqual(250);
    for (const page of pages.filter((p) => p.startsWith("docs/"))) expect(readme, page).toContain(`(${page})`);
  });
});
