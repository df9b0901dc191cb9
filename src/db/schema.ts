/**
 * The typed shape of every table. Each domain declares its own tables by augmenting this
 * interface from its `tables.ts` (TypeScript declaration merging), so the query layer knows
 * every column while the domain keeps ownership of its storage:
 *
 *   declare module '../db/schema.js' { interface Database { events: EventRow } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Database {}
