import type { Logger } from '../observability/index.ts';
import type { Row } from './arrow-rows.ts';
import type { Command, ExecutePlanResponse, Relation } from './proto-types.ts';

/**
 * What the DataFrame builder and the streaming-query handles need from a session: run a
 * relation or a command, and keep the server session alive while a query runs. The
 * Spark Connect client implements it; tests can hand in a fake.
 */
export interface PlanRunner {
  readonly logger: Logger;
  executeRelation(relation: Relation): Promise<Row[]>;
  /** Runs a command and returns every response it streamed back. */
  executeCommand(command: Command): Promise<ExecutePlanResponse[]>;
  /**
   * Holds the session open (a periodic cheap call) until the returned release is called.
   * A Spark 3.5 session that expires takes its streaming queries down with it.
   */
  holdSession(reason: string): () => void;
}
