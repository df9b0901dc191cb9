import { TopicPattern } from '../../events/topics.js';
import type { KoorClient } from '../client.js';
import type { KoorEvent } from '../../events/schemas.js';
import { CliError, ExitCode } from '../exit-codes.js';
import type { CliSettings } from '../settings.js';
import type { HookState } from './hook-state.js';

/**
 * The digest a hook adds to the agent's context at session start and on each prompt: what
 * changed for this agent since its last turn, in a few short lines, and nothing at all when
 * nothing changed: unread messages not shown before, its own leases about to run out, and the
 * events after the cursor it keeps in the hook state that this workspace follows
 * (settings.json `follow`, `follow_state`, `follow_specs`, written by the wizard), leaving out
 * the agent's own. A server without messages or leases (404) simply has none to tell.
 */

/** The part of a stored event (the server's event schema) a digest reads. */
type StoredEvent = Pick<KoorEvent, 'id' | 'topic' | 'data' | 'source'>;

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

const isNotFound = (err: unknown) => err instanceof CliError && err.exitCode === ExitCode.notFound;

interface InboxMessage {
  id: number;
  from_name?: string;
  subject?: string;
  body?: unknown;
  importance?: string;
  ack_required?: boolean;
}

/** Unread messages this digest has not shown yet, oldest first (a server without messages has none). */
async function newMessages(client: KoorClient, after: number | undefined): Promise<InboxMessage[]> {
  let inbox: unknown;
  try {
    inbox = await client.json('GET', '/api/messages/inbox', { query: { unread: 1, after, limit: MAX_ITEMS } });
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  return (Array.isArray(inbox) ? inbox : [])
    .filter((m): m is InboxMessage => typeof (m as InboxMessage)?.id === 'number')
    .sort((a, b) => a.id - b.id);
}

function describeMessage(m: InboxMessage): string {
  const body = typeof m.body === 'string' ? m.body : JSON.stringify(m.body ?? '');
  const subject = m.subject ? ` "${clip(m.subject, 80)}"` : '';
  const flags = [m.importance === 'high' ? 'high' : '', m.ack_required ? 'ack required' : ''].filter(Boolean).join(', ');
  return `- message ${m.id} from ${m.from_name || 'someone'}${flags ? ` (${flags})` : ''}${subject}: ${clip(body, 300)} (done with it: ./koor-cli ack ${m.id})`;
}

interface HeldLease {
  id: string;
  resources?: string[];
  expires_at?: string;
}

/** This agent's leases that end within this long are worth a line. */
const EXPIRY_WARNING_MS = 3 * 60_000;

/** Own leases about to run out, each told once per expiry time. */
async function expiringLeases(client: KoorClient, me: string | undefined, told: string[]): Promise<{ lines: string[]; told: string[] }> {
  if (!me) return { lines: [], told };
  let leases: unknown;
  try {
    leases = await client.json('GET', '/api/leases', { query: { holder: me } });
  } catch (err) {
    if (isNotFound(err)) return { lines: [], told };
    throw err;
  }
  const now = Date.now();
  const lines: string[] = [];
  const keep: string[] = [];
  for (const lease of (Array.isArray(leases) ? leases : []) as HeldLease[]) {
    if (typeof lease?.id !== 'string' || !lease.expires_at) continue;
    const mark = `${lease.id}@${lease.expires_at}`;
    const left = Date.parse(lease.expires_at) - now;
    if (left > EXPIRY_WARNING_MS || left <= 0) continue;
    keep.push(mark);
    if (told.includes(mark)) continue;
    const minutes = Math.max(1, Math.round(left / 60_000));
    lines.push(`- your lease ${lease.id} on ${(lease.resources ?? []).join(', ')} ends in ${minutes} minute${minutes === 1 ? '' : 's'}: ./koor-cli lease renew ${lease.id} (or release it when done)`);
  }
  return { lines, told: keep };
}

/** Builds the digest; `text` is empty when nothing changed. Throws CliError when the server cannot be asked. */
export async function buildDigest(client: KoorClient, settings: CliSettings, me: string | undefined, state: HookState): Promise<Digest> {
  const lines: string[] = [];
  const next: HookState = { ...state };

  const messages = await newMessages(client, state.messages_after);
  lines.push(...messages.map(describeMessage));
  if (messages.length > 0) next.messages_after = messages[messages.length - 1]!.id;

  const leases = await expiringLeases(client, me, state.leases_told ?? []);
  lines.push(...leases.lines);
  next.leases_told = leases.told;

  // A workspace's first digest starts the event history from now: its instructions tell it to
  // read its task.
  if (state.events_after === undefined) {
    next.events_after = await newestEventId(client);
  } else {
    const interest = new Interest(settings, me);
    const { events, cursor, more } = await followedEvents(client, interest, state.events_after);
    next.events_after = cursor;
    if (events.length > 0) {
      const names = await instanceNames(client, new Set(events.map((e) => e.source)));
      const shown = events.slice(-MAX_ITEMS).map((e) => describe(e, whoIs(e.source, names)));
      const skipped = events.length - shown.length;
      if (skipped > 0 || more) shown.unshift(`- ${more ? 'many' : skipped} earlier updates: ./koor-cli events history --after ${state.events_after}`);
      lines.push(...shown);
    }
  }
  if (lines.length === 0) return { text: '', state: next };
  const project = typeof settings.project === 'string' ? ` (project ${settings.project})` : '';
  return { text: [`Koor: what changed since your last turn${project}:`, ...lines].join('\n'), state: next };
}
