import type { FastifyInstance } from 'fastify';

/** A running dashboard server. */
export interface DashboardServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the dashboard on its own address, proxying /api/* and the event stream to the API.
 * (Filled in by the dashboard work.)
 */
export async function startDashboard(_api: FastifyInstance, _bind: string): Promise<DashboardServer | undefined> {
  return undefined;
}
