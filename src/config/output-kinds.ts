/** What becomes of a step's result: a pull request, a review, text in the sticky comment, or nothing. */
export const OUTPUT_KINDS = ["pull_request", "review", "comment", "none"] as const;
