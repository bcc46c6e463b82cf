/**
 * A clock shared by every lock of a model run: it moves only when the test moves it, so "the
 * clock passes a lease end" happens at an exact millisecond.
 */
export class FakeClock {
  #nowMs: number;

  constructor(startMs = Date.now()) {
    this.#nowMs = startMs;
  }

  /** The `clock` option of `DynamoDbLock`. */
  readonly now = (): number => this.#nowMs;

  advanceTo(ms: number): void {
    if (ms < this.#nowMs) throw new Error(`the fake clock never goes back (${ms} < ${this.#nowMs})`);
    this.#nowMs = ms;
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.#nowMs + ms);
  }
}
