import { scrubSecrets } from "../observability/logger.ts";

/**
 * Makes untrusted text (model output, issue text) safe to place in a comment, review or pull
 * request body that Octoflow posts: secrets are scrubbed as in the logs (`scrubSecrets`), `@user` /
 * `@org/team` mentions no longer notify anyone, and
 * HTML comment delimiters can neither hide the rest of the body nor forge a hidden marker
 * (`<!-- octoflow:… -->`) that Octoflow later searches for.
 *
 * A zero-width space is inserted (after `@`, after `<` of `<!--`, before `>` of `-->`), so the
 * text reads the same. Mentions inside fenced code blocks are left alone (they never notify, and
 * code such as `@Override` should stay copyable); comment delimiters are neutralised everywhere.
 * Never apply this to a ```suggestion body: that text is committed verbatim when accepted.
 *
 * @example
 * neutralizeMarkdown("thanks @octocat <!-- octoflow:run:1 -->")
 * // "thanks @\u200boctocat <\u200b!-- octoflow:run:1 --\u200b>"
 */
export function neutralizeMarkdown(text: string): string {
  let fence: string | undefined;
  const lines = scrubSecrets(text).split("\n").map((line) => {
    // An opening backtick fence's info string has no backtick (else the line is prose with inline code).
    const marker = /^ {0,3}(`{3,}(?=[^`]*$)|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
      return line;
    }
    if (marker) {
      fence = marker;
      return line;
    }
    return line.replace(/(?<![A-Za-z0-9_])@(?=[A-Za-z0-9])/g, "@\u200b");
  });
  return lines
    .join("\n")
    .replace(/<!--/g, "<\u200b!--")
    .replace(/--!?>/g, (m) => `${m.slice(0, -1)}\u200b>`);
}
