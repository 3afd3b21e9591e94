/**
 * Runs render work at most once per animation frame. Stream handlers only record what changed and call
 * request(); the views then draw once with everything that arrived since the last frame. A hidden tab gets
 * no frames, so whatever a view keeps pending must be bounded by the view itself.
 */
export class FrameBatcher {
  readonly #tasks = new Set<() => void>();
  #scheduled = false;
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  /** Schedules `task` for the next frame; the same task asked for twice in a frame runs once. */
  request(task: () => void): void {
    this.#tasks.add(task);
    if (this.#scheduled) return;
    this.#scheduled = true;
    requestAnimationFrame(() => this.#run());
  }

  #run(): void {
    this.#scheduled = false;
    const tasks = [...this.#tasks];
    this.#tasks.clear();
    for (const task of tasks) {
      try {
        task();
      } catch (error) {
        this.#onError(error);
      }
    }
  }
}
