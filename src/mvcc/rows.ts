/**
 * Storage of one versioned key space. Two tables per space:
 * - `*_keys`: one row per key ever written. `version` is the highest version ever given to the
 *   key (it never goes down, also across delete and re-create), `live` says whether the key
 *   currently exists, and the other columns describe the current version (for listing).
 * - `*_versions`: every version ever written, immutable.
 * The state store uses `state_keys`/`state_versions`; the spec registry has the same shape in
 * `spec_keys`/`spec_versions` (its key is `project/name`). Each declares its own tables.
 */
export interface VersionedKeyRow {
  key: string;
  version: number;
  /** 1 while the key exists, 0 after it was deleted. */
  live: number;
  hash: string;
  content_type: string;
  updated_at: string;
}

export interface VersionedValueRow {
  key: string;
  version: number;
  data: Buffer;
  hash: string;
  content_type: string;
  updated_at: string;
  updated_by: string;
}
