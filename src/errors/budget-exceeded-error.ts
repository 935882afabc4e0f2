/** A run's token or cost budget is exhausted; not retriable. */
export class BudgetExceededError extends Error {
  override readonly name = "BudgetExceededError";
  constructor(message: string) {
    super(message);
  }
}
