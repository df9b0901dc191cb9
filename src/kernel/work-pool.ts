import { availableParallelism } from 'node:os';
import { Tinypool } from 'tinypool';
import { HttpError } from './errors.js';

/**
 * Time added to the budget of a task that may have to wait for a worker process to start
 * (about 0.1 s on an idle machine, several times that on a busy one): the budget is for the
 * work, and a request must not fail because the pool was cold.
 */
const COLD_START_ALLOWANCE_MS = 2_000;
const IDLE_TIMEOUT_MS = 30_000;

/**
 * Where CPU-heavy work on user input runs: JSON Schema checks of payloads, rule scans, contract
 * checks of live answers, the checks of big templates and contract schemas. Such work could hold
 * the event loop for seconds or minutes (`uniqueItems` over 20 000 objects: 9 s; one RE2 pattern
 * of `{1000}` repetitions over 256 KB: up to 4 s per call, and a call cannot be interrupted), so
 * every other request waited. In a worker process it cannot stop the server, and a task that runs
 * past the work budget (`--work-budget`) is ended by killing its process: the request is
 * answered 422 naming the budget.
 *
 * Processes, not threads: a thread can only be stopped between two JavaScript steps, and one
 * RE2 call is a single native step that can run for minutes (a costly pattern over a 10 MB
 * line). A worker thread told to stop went on burning a core until the call returned, and kept
 * the process from exiting. A process is killed at once, wherever it is.
 *
 * Tasks are plain functions exported by a domain's task module (`rules/scan-task.ts`), named by
 * module URL and export name, so the kernel knows no domain. Inputs and results cross the process
 * boundary by the IPC channel's structured clone: plain data only, and a task reports a problem in its result
 * rather than by throwing a typed error (which would arrive as a bare Error).
 *
 * The pool starts no process before the first heavy request, and idle ones end after a while;
 * `close()` ends them all (the app calls it on close).
 */
export class WorkPool {
  private pool: Tinypool | undefined;
  /** When a task last finished in a worker that is still there (0: none may be). */
  private warmSince = 0;
  /**
   * A queue longer than this means the server is flooded with heavy requests: refuse more at
   * once rather than let each wait out its budget in line.
   */
  private readonly maxQueue: number;

  constructor(
    /** The longest one task may run, in milliseconds, queueing included. */
    readonly budgetMs: number,
    private readonly threads = Math.max(2, availableParallelism()),
  ) {
    this.maxQueue = threads * 16;
  }

  /**
   * Runs `name` exported by `module` on `input` in a worker process. `what` names the work for the
   * over-budget answer: `contract check exceeded the 5s work budget (--work-budget)`.
   */
  async run<Result>(module: URL, name: string, input: unknown, what: string): Promise<Result> {
    this.pool ??= new Tinypool({
      runtime: 'child_process',
      // Structured clone over IPC (Buffers, Maps, big strings) rather than JSON text.
      serialization: 'advanced',
      // Not the server's own debugger port: a second process listening on it fails to start.
      execArgv: process.execArgv.filter((arg) => !arg.startsWith('--inspect')),
      minThreads: 0,
      maxThreads: this.threads,
      idleTimeout: IDLE_TIMEOUT_MS,
      maxQueue: this.maxQueue,
    });
    const budget = new AbortController();
    const warm = Date.now() - this.warmSince < IDLE_TIMEOUT_MS / 2;
    const timer = setTimeout(() => budget.abort(), this.budgetMs + (warm ? 0 : COLD_START_ALLOWANCE_MS));
    try {
      const result = (await this.pool.run(input, { filename: module.href, name, signal: budget.signal })) as Result;
      this.warmSince = Date.now();
      return result;
    } catch (err) {
      if (budget.signal.aborted) {
        // Its process was killed; the next task may wait for a new one.
        this.warmSince = 0;
        throw overBudget(what, this.budgetMs);
      }
      if (err instanceof Error && /queue is at limit|maximum queue/i.test(err.message)) {
        throw new HttpError(503, `too much CPU-heavy work is waiting (${this.maxQueue} requests): try again shortly`, { reason: 'work_queue_full' });
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends every worker process, running tasks included. */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.destroy();
  }
}

/** `2.5s`, `5s`, `250ms`: the budget as a person would write it on the command line. */
function describeMs(ms: number): string {
  return ms >= 1000 && ms % 100 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The 422 of work that ran past its budget; the message names the setting that raises it. */
export function overBudget(what: string, budgetMs: number): HttpError {
  return new HttpError(422, `${what} exceeded the ${describeMs(budgetMs)} work budget (--work-budget)`, { reason: 'work_budget_exceeded', budget_ms: budgetMs });
}

/** True for the error `overBudget` makes (a background job records it instead of failing). */
export function isOverBudget(err: unknown): err is HttpError {
  return err instanceof HttpError && err.reason === 'work_budget_exceeded';
}
