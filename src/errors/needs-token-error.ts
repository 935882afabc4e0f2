/** A GET that needs GitHub while replay runs without a token. */
export class NeedsTokenError extends Error {
  override readonly name = "NeedsTokenError";
  readonly route: string;
  constructor(route: string) {
    super(`${route} needs GitHub: set GITHUB_TOKEN (or GH_TOKEN) to let replay read it`);
    this.route = route;
  }
}
