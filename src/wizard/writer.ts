import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, parse } from 'node:path';
import { WizardError } from './errors.js';
import type { PlannedFile, WizardPlan } from './plan.js';

/**
 * Checks that every planned file can be written: each folder either exists as a folder or can
 * be created inside a writable one, and no planned file is a folder. Throws before anything
 * is written.
 */
export function checkWritable(plan: WizardPlan): void {
  const checked = new Set<string>();
  for (const file of plan.files) {
    if (existsSync(file.path) && statSync(file.path).isDirectory()) {
      throw new WizardError(`cannot write ${file.path}: a folder with that name exists`);
    }
    let dir = dirname(file.path);
    if (checked.has(dir)) continue;
    const walked: string[] = [];
    // Walk up to the nearest existing ancestor: it must be a folder we may write into.
    while (!existsSync(dir) && dir !== parse(dir).root) {
      walked.push(dir);
      dir = dirname(dir);
    }
    if (!statSync(dir).isDirectory()) {
      throw new WizardError(`cannot create folder ${walked.at(-1) ?? dir}: ${dir} is a file, not a folder`);
    }
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch {
      throw new WizardError(`folder ${dir} is not writable: choose another --dir or fix its permissions`);
    }
    checked.add(dirname(file.path));
    for (const d of walked) checked.add(d);
  }
}

/** Planned files that already exist and would be replaced (files the wizard only adds to are not asked about). */
export function existingFiles(plan: WizardPlan): PlannedFile[] {
  return plan.files.filter((f) => !f.merge && existsSync(f.path));
}

export interface WriteResult {
  created: string[];
  overwritten: string[];
  /** Existing files the wizard added to (`.gitignore`, the project record when adding agents). */
  updated: string[];
  /** Existing files left untouched. */
  kept: string[];
}

/** Writes the plan; `overwrite` says which existing files may be replaced, the others are kept. */
export function writePlan(plan: WizardPlan, overwrite: Set<string>): WriteResult {
  const result: WriteResult = { created: [], overwritten: [], updated: [], kept: [] };
  for (const file of plan.files) {
    const exists = existsSync(file.path);
    if (exists && file.merge) {
      const before = readFileSync(file.path, 'utf8');
      const after = file.merge(before);
      if (after === before) {
        result.kept.push(file.path);
      } else {
        writeFileSync(file.path, after);
        result.updated.push(file.path);
      }
      continue;
    }
    if (exists && !overwrite.has(file.path)) {
      result.kept.push(file.path);
      continue;
    }
    mkdirSync(dirname(file.path), { recursive: true });
    // 'wx' fails rather than clobbering a file that appeared since the plan was checked.
    writeFileSync(file.path, file.content, { flag: exists ? 'w' : 'wx', mode: file.mode });
    if (file.mode !== undefined) chmodSync(file.path, file.mode);
    (exists ? result.overwritten : result.created).push(file.path);
  }
  return result;
}
