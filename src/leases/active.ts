import { firstSegments, parseResource, resourcesOverlap, type Resource } from './resources.js';
import type { LeaseRow } from './tables.js';

/**
 * The active leases as this process last saw them, parsed and indexed, so that a check or an
 * acquire compares against a thousand leases without reading and parsing a thousand rows.
 *
 * The cache is labelled with the generation counter that every lease change raises in the
 * database (the `lease_fence` row), and used only while the database still says that
 * generation: one tiny read tells whether anything changed, here or on another replica.
 * Inside an acquiring (or releasing, renewing) transaction the counter is raised under its
 * row lock, so "the cache is at the generation just before mine" means "the cache is exactly
 * what is committed".
 */
export class ActiveLeases {
  private generation = -1;
  private rows: LeaseRow[] = [];
  private readonly indexes = new Map<string, ProjectLeases>();
  /** Parsed resources by lease id: a lease's resources never change, so they are parsed once. */
  private parsed = new Map<string, Resource[]>();
  private readonly resourcesOf = (row: LeaseRow): Resource[] => {
    let resources = this.parsed.get(row.id);
    if (!resources) this.parsed.set(row.id, (resources = parseLeaseResources(row)));
    return resources;
  };

  /** The generation the cache holds, -1 when it holds none. */
  get heldGeneration(): number {
    return this.generation;
  }

  /** The rows of every project, when the cache holds `generation`. */
  rowsAt(generation: number): LeaseRow[] | undefined {
    return generation === this.generation ? this.rows : undefined;
  }

  /** The project's leases, indexed, when the cache holds `generation`. */
  projectAt(generation: number, project: string): ProjectLeases | undefined {
    if (generation !== this.generation) return undefined;
    let index = this.indexes.get(project);
    if (!index) this.indexes.set(project, (index = new ProjectLeases(this.rows.filter((row) => row.project === project), this.resourcesOf)));
    return index;
  }

  /** Remembers the leases as of `generation` (an older generation than the one held is ignored). */
  remember(generation: number, rows: LeaseRow[]): void {
    if (generation < this.generation) return;
    this.generation = generation;
    this.rows = [...rows].sort((a, b) => Number(a.fence) - Number(b.fence));
    this.indexes.clear();
    // Keep the parsed resources of the leases that are still there.
    const kept = new Map<string, Resource[]>();
    for (const row of this.rows) {
      const resources = this.parsed.get(row.id);
      if (resources) kept.set(row.id, resources);
    }
    this.parsed = kept;
  }

  forget(): void {
    this.generation = -1;
    this.rows = [];
    this.indexes.clear();
    this.parsed.clear();
  }

  /** Indexes rows that are not (or not yet) the cached ones, still parsing each lease once. */
  index(rows: LeaseRow[]): ProjectLeases {
    return new ProjectLeases(rows, this.resourcesOf);
  }
}

const parseLeaseResources = (row: LeaseRow) => (JSON.parse(row.resources) as string[]).map((text) => parseResource(text));

/** A conflicting lease and those of its resources that stand in the way. */
export interface Found {
  row: LeaseRow;
  resources: string[];
}

/** One project's leases with their parsed resources, indexed by first path segment. */
export class ProjectLeases {
  private readonly parsed: Resource[][];
  private readonly bySegment = new Map<string, number[]>();
  /** Leases with a resource that has no fixed first segment: compared with everything. */
  private readonly anywhere: number[] = [];

  constructor(
    readonly rows: LeaseRow[],
    resourcesOf: (row: LeaseRow) => Resource[] = parseLeaseResources,
  ) {
    this.parsed = rows.map(resourcesOf);
    for (const [i, resources] of this.parsed.entries()) {
      const segments = new Set<string>();
      let everywhere = false;
      for (const resource of resources) {
        if (resource.kind === 'name') continue;
        const first = firstSegments(resource);
        if (first === null) everywhere = true;
        else for (const segment of first) segments.add(segment);
      }
      if (everywhere) this.anywhere.push(i);
      // Names have no segment but only meet the same name: they are keyed by their text.
      for (const resource of resources) if (resource.kind === 'name') segments.add(`\0${resource.text}`);
      for (const segment of segments) {
        const list = this.bySegment.get(segment);
        if (list) list.push(i);
        else this.bySegment.set(segment, [i]);
      }
    }
  }

  /** The leases (by position, maybe twice) that could overlap `wanted`: none else can. */
  private *candidates(wanted: Resource): Iterable<number> {
    const first = wanted.kind === 'name' ? [`\0${wanted.text}`] : firstSegments(wanted);
    if (first === null) {
      yield* this.rows.keys();
      return;
    }
    yield* this.anywhere;
    for (const segment of first) yield* this.bySegment.get(segment) ?? [];
  }

  /**
   * The active leases (expiring after `now`) that overlap `wanted`, with the overlapping
   * resources, for which `counts(row)` says yes. Oldest grant first.
   */
  overlapping(wanted: readonly Resource[], now: string, counts: (row: LeaseRow) => boolean = () => true): Found[] {
    const hits = new Map<number, Set<string>>();
    const counted = new Map<number, boolean>();
    for (const resource of wanted) {
      for (const i of this.candidates(resource)) {
        let countsThis = counted.get(i);
        if (countsThis === undefined) {
          const row = this.rows[i]!;
          counted.set(i, (countsThis = row.expires_at > now && counts(row)));
        }
        if (!countsThis) continue;
        for (const held of this.parsed[i]!) {
          if (!resourcesOverlap(held, resource)) continue;
          let texts = hits.get(i);
          if (!texts) hits.set(i, (texts = new Set()));
          texts.add(held.text);
        }
      }
    }
    return [...hits.keys()].sort((a, b) => a - b).map((i) => {
      const texts = hits.get(i)!;
      // In the lease's own order.
      return { row: this.rows[i]!, resources: this.parsed[i]!.map((r) => r.text).filter((text) => texts.has(text)) };
    });
  }
}

declare module '../kernel/context.js' {
  interface AppContext {
    /** The active leases as this process last saw them (src/leases/active.ts). */
    activeLeases: ActiveLeases;
  }
}
