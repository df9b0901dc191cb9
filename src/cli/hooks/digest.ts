import { TopicPattern } from '../../events/topics.js';
import type { KoorClient } from '../client.js';
import type { CliSettings } from '../settings.js';
import type { HookState } from './hook-state.js';

/**
 * The digest a hook adds to the agent's context at session start and on each prompt: what
 * changed for this agent since its last turn, in a few short lines, and nothing at all when
 * nothing changed. It reads the event history after the cursor it keeps in the hook state,
 * keeps the events this workspace follows (settings.json `follow`, `follow_state`,
 * `follow_specs`, written by the wizard) and leaves out the agent's own.
 */

interface StoredEvent {
  id: number;
  topic: string;
  data: unknown;
  source: string;
}

/** Events read per request, and at most this many lines in one digest. */
const PAGE = 200;
const MAX_PAGES = 5;
const MAX_ITEMS = 10;
const MAX_DATA = 200;

export interface Digest {
  text: string;
  state: HookState;
}

const isEvent = (value: unknown): value is StoredEvent =>
  !!value && typeof value === 'object' && typeof (value as StoredEvent).id === 'number' && typeof (value as StoredEvent).topic === 'string';

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** Which events this workspace follows, from its settings. */
export class Interest {
  private readonly topics: TopicPattern[];
  private readonly stateKeys: string[];
  private readonly specProjects: string[];

  constructor(
    settings: CliSettings,
    private readonly me: string | undefined,
  ) {
    this.topics = strings(settings.follow).flatMap((p) => {
      try {
        return [TopicPattern.compile(p)];
      } catch {
        return [];
      }
    });
    this.stateKeys = strings(settings.follow_state);
    this.specProjects = strings(settings.follow_specs);
  }

  /** A key is followed when it is listed, or lies under a listed prefix ending in `/`. */
  private followsKey(key: string): boolean {
    return this.stateKeys.some((k) => key === k || (k.endsWith('/') && key.startsWith(k)));
  }

  wants(event: StoredEvent): boolean {
    if (this.me && event.source === this.me) return false;
    const data = (event.data ?? {}) as Record<string, unknown>;
    if (event.topic === 'state.changed') return typeof data.key === 'string' && this.followsKey(data.key);
    if (event.topic === 'spec.changed') return typeof data.project === 'string' && this.specProjects.includes(data.project);
    return this.topics.some((p) => p.matches(event.topic));
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Single-quoted for a shell, as the commands in the digest are meant to be run as printed. */
const sq = (value: string) => (/^[\w./:@-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);

function describe(event: StoredEvent, who: string): string {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const by = who ? ` (by ${who})` : '';
  if (event.topic === 'state.changed' && typeof data.key === 'string') {
    return `- state ${data.key} is now v${String(data.version ?? '?')}${by}: ./koor-cli state get ${sq(data.key)} --if-changed`;
  }
  if (event.topic === 'spec.changed' && typeof data.project === 'string' && typeof data.name === 'string') {
    return `- spec ${data.project}/${data.name} is now v${String(data.version ?? '?')}${by}: ./koor-cli specs get ${sq(data.project)} ${sq(data.name)} --if-changed`;
  }
  const payload = event.data === null || event.data === undefined ? '' : `: ${clip(JSON.stringify(event.data), MAX_DATA)}`;
  return `- ${event.topic}${who ? ` from ${who}` : ''}${payload}`;
}

/** Instance id → name, asked for only when some event needs a name. */
async function instanceNames(client: KoorClient, ids: Set<string>): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  if ([...ids].every((id) => id === '' || id === 'admin' || id === 'anonymous')) return names;
  try {
    const list = await client.json<Array<{ id?: unknown; name?: unknown }>>('GET', '/api/instances');
    for (const i of Array.isArray(list) ? list : []) if (typeof i.id === 'string' && typeof i.name === 'string') names.set(i.id, i.name);
  } catch {
    // Without names the digest shows ids.
  }
  return names;
}

function whoIs(source: string, names: Map<string, string>): string {
  if (source === '' || source === 'anonymous') return '';
  if (source === 'admin') return 'human';
  return names.get(source) ?? source;
}

/** The newest stored event id, where a workspace's first digest starts. */
async function newestEventId(client: KoorClient): Promise<number> {
  const newest = await client.json<unknown[]>('GET', '/api/events/history', { query: { last: 1 } });
  return Array.isArray(newest) && isEvent(newest[0]) ? newest[0].id : 0;
}

/** Events after the cursor that this workspace follows, and the new cursor. */
async function followedEvents(client: KoorClient, interest: Interest, after: number): Promise<{ events: StoredEvent[]; cursor: number; more: boolean }> {
  const events: StoredEvent[] = [];
  let cursor = after;
  for (let page = 0; page < MAX_PAGES; page++) {
    const batch = await client.json<unknown[]>('GET', '/api/events/history', { query: { after: cursor, last: PAGE } });
    const stored = (Array.isArray(batch) ? batch : []).filter(isEvent).sort((a, b) => a.id - b.id);
    for (const event of stored) {
      cursor = Math.max(cursor, event.id);
      if (interest.wants(event)) events.push(event);
    }
    if (stored.length < PAGE) return { events, cursor, more: false };
  }
  return { events, cursor, more: true };
}

/** Builds the digest; `text` is empty when nothing changed. Throws CliError when the server cannot be asked. */
export async function buildDigest(client: KoorClient, settings: CliSettings, me: string | undefined, state: HookState): Promise<Digest> {
  // A workspace's first digest starts from now: its instructions tell it to read its task.
  if (state.events_after === undefined) {
    return { text: '', state: { ...state, events_after: await newestEventId(client) } };
  }
  const interest = new Interest(settings, me);
  const { events, cursor, more } = await followedEvents(client, interest, state.events_after);
  const next = { ...state, events_after: cursor };
  if (events.length === 0) return { text: '', state: next };

  const names = await instanceNames(client, new Set(events.map((e) => e.source)));
  const lines = events.slice(-MAX_ITEMS).map((e) => describe(e, whoIs(e.source, names)));
  const skipped = events.length - lines.length;
  if (skipped > 0 || more) {
    lines.unshift(`- ${more ? 'many' : skipped} earlier updates: ./koor-cli events history --after ${state.events_after}`);
  }
  const project = typeof settings.project === 'string' ? ` (project ${settings.project})` : '';
  return { text: [`Koor: what changed since your last turn${project}:`, ...lines].join('\n'), state: next };
}
